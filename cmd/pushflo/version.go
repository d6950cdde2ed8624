package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// version and commit are set at build time by the Makefile:
// -ldflags "-X main.version=… -X main.commit=…". When they are not, the
// module version and the VCS revision Go records in the binary stand in.
var (
	version = ""
	commit  = ""
)

// resolveVersion fills version and commit from the build info when the
// linker did not set them. main calls it first.
func resolveVersion() {
	info, ok := debug.ReadBuildInfo()
	if version == "" {
		version = "dev"
		if ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
			version = info.Main.Version
		}
	}
	if commit == "" {
		commit = "unknown"
		if ok {
			var rev, modified string
			for _, s := range info.Settings {
				switch s.Key {
				case "vcs.revision":
					rev = s.Value
				case "vcs.modified":
					modified = s.Value
				}
			}
			if rev != "" {
				commit = rev
				if modified == "true" {
					commit += "-dirty"
				}
			}
		}
	}
}

// runVersion prints the version, commit, Go version and platform.
func runVersion(args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Sprintf("version takes no arguments, got %q", args)}
	}
	fmt.Printf("pushflo %s commit %s %s %s/%s\n", version, commit, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}
