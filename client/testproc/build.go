//go:build !windows

package testproc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
)

// ModulePath is the server module's path, which ModuleDir looks for.
const ModulePath = "github.com/pushflo/pushflo"

var (
	buildOnce sync.Once
	buildDir  string
	binPath   string
	buildErr  error
)

// Binary returns the pushflo binary for this test process: $PUSHFLO_BIN
// when it names a file (make test builds it once for every package), else
// ./cmd/pushflo built once into a temporary directory from the module the
// working directory is in. Call Cleanup when done.
func Binary() (string, error) {
	buildOnce.Do(func() {
		if p := os.Getenv("PUSHFLO_BIN"); p != "" {
			if _, err := os.Stat(p); err == nil {
				binPath = p
				return
			}
		}
		wd, err := os.Getwd()
		if err != nil {
			buildErr = err
			return
		}
		root, err := ModuleDir(wd)
		if err != nil {
			buildErr = err
			return
		}
		if buildDir, err = os.MkdirTemp("", "pushflo-bin-"); err != nil {
			buildErr = err
			return
		}
		binPath, buildErr = Build(context.Background(), root, buildDir)
	})
	return binPath, buildErr
}

// Cleanup removes a binary Binary built.
func Cleanup() {
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
}

// Build builds ./cmd/pushflo of the module in moduleDir into
// outDir/pushflo and returns its path.
func Build(ctx context.Context, moduleDir, outDir string) (string, error) {
	bin := filepath.Join(outDir, "pushflo")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/pushflo")
	cmd.Dir = moduleDir
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/pushflo in %s: %w\n%s", moduleDir, err, out)
	}
	return bin, nil
}

// ModuleDir returns the directory of the server module (ModulePath) at or
// above dir.
func ModuleDir(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("module dir: %w", err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		b, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && bytes.HasPrefix(b, []byte("module "+ModulePath+"\n")) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", errors.New("no " + ModulePath + " module at or above " + dir + "; set PUSHFLO_BIN")
		}
	}
}
