package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/pushflo/pushflo/api"
)

// secrets are what a node keeps in its data dir when not given: the API
// keys and the cluster secret.
type secrets struct {
	Keys          api.Keys `json:"keys"`
	ClusterSecret string   `json:"clusterSecret"`
}

func randomToken(prefix string) string {
	b := make([]byte, 24)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// readSecrets reads dataDir/secrets.json; none is no error.
func readSecrets(dataDir string) (secrets, error) {
	path := filepath.Join(dataDir, "secrets.json")
	var saved secrets
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &saved); err != nil {
			return secrets{}, fmt.Errorf("read %s: %w", path, err)
		}
	case errors.Is(err, os.ErrNotExist):
	default:
		return secrets{}, fmt.Errorf("read %s: %w", path, err)
	}
	return saved, nil
}

// loadSecrets fills the keys and cluster secret not given on the command
// line from dataDir/secrets.json, generating and saving them on first
// start. generated reports whether any were generated.
func loadSecrets(dataDir string, given secrets) (secrets, bool, error) {
	path := filepath.Join(dataDir, "secrets.json")
	saved, err := readSecrets(dataDir)
	if err != nil {
		return secrets{}, false, err
	}
	out := given
	generated := false
	pick := func(dst *string, saved, prefix string) {
		switch {
		case *dst != "":
		case saved != "":
			*dst = saved
		default:
			*dst = randomToken(prefix)
			generated = true
		}
	}
	pick(&out.Keys.Publish, saved.Keys.Publish, "pub_")
	pick(&out.Keys.Secret, saved.Keys.Secret, "sec_")
	pick(&out.Keys.Mgmt, saved.Keys.Mgmt, "mgmt_")
	pick(&out.ClusterSecret, saved.ClusterSecret, "")
	if out != saved {
		b, _ := json.MarshalIndent(out, "", "  ")
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return secrets{}, false, err
		}
		if err := writeFileDurable(path, b, 0o600); err != nil {
			return secrets{}, false, fmt.Errorf("save %s: %w", path, err)
		}
	}
	return out, generated, nil
}

// restrictDataDir makes the data directory and everything in it private to
// the server's user: directories 0700, files 0600. Files written by an
// older version, or into a directory the operator created with looser
// modes, are tightened too; new files get these modes from the process's
// umask (restrictUmask). Symbolic links are left alone.
func restrictDataDir(dataDir string) error {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	return filepath.WalkDir(dataDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		var mode os.FileMode
		switch {
		case d.IsDir():
			mode = 0o700
		case d.Type().IsRegular():
			mode = 0o600
		default:
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Mode().Perm() != mode {
			if err := os.Chmod(path, mode); err != nil {
				return fmt.Errorf("restrict data dir: %w", err)
			}
		}
		return nil
	})
}

// writeFileDurable replaces path with data so that after a crash or power
// loss it holds either the old or the new content, whole: a temporary file
// beside it is written and fsynced, renamed over path, and the directory
// fsynced.
func writeFileDurable(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
