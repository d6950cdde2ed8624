package main

// The config file and the environment are two more ways to set a command's
// flags: a key in the file, or a PUSHFLO_<FLAG> variable, is the flag of the
// same name. Nothing here knows which flags exist, so a flag added to a
// command is covered by both at once.

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// Flags that steer the loading itself and are not keys of the file.
const (
	configFlag      = "config"
	printConfigFlag = "print-config"
)

// envName is the environment variable that sets a flag: PUSHFLO_HTTP_ADDR
// for --http-addr.
func envName(flagName string) string {
	return "PUSHFLO_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parseFlags parses args into fs and fills the flags args did not set, first
// from the config file (when fs has a --config flag and it names a file),
// then from the environment; so flags beat the environment, which beats the
// file, which beats the defaults. Flags may come before, between or after
// the positional arguments (pushflo publish CHANNEL '{…}' --event x).
func parseFlags(fs *flag.FlagSet, args []string) error {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if err := fs.Parse(append([]string{"--"}, positional...)); err != nil {
		return err
	}
	onCommandLine := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { onCommandLine[f.Name] = true })

	var errs []error
	setFromEnv := func(f *flag.Flag) {
		if onCommandLine[f.Name] {
			return
		}
		if v, ok := os.LookupEnv(envName(f.Name)); ok {
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", envName(f.Name), v, err))
			}
		}
	}
	if cf := fs.Lookup(configFlag); cf != nil {
		setFromEnv(cf)
		if path := cf.Value.String(); path != "" && len(errs) == 0 {
			if err := applyConfigFile(fs, path, onCommandLine); err != nil {
				return err
			}
		}
	}
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name != configFlag {
			setFromEnv(f)
		}
	})
	return errors.Join(errs...)
}

// ConfigKeyError is returned for a config file key that names no flag.
type ConfigKeyError struct {
	File, Key string
}

func (e *ConfigKeyError) Error() string {
	return fmt.Sprintf("config file %s: unknown key %q (the keys are the flag names of 'pushflo serve -h', without dashes in front)", e.File, e.Key)
}

// applyConfigFile reads the TOML file at path, whose keys are flag names,
// and sets every flag it names except those in skip. Every problem in the
// file is reported at once: unknown keys, tables, values a flag refuses.
func applyConfigFile(fs *flag.FlagSet, path string, skip map[string]bool) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	var values map[string]any
	if _, err := toml.Decode(string(b), &values); err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var errs []error
	for _, k := range keys {
		f := fs.Lookup(k)
		if f == nil || k == configFlag || k == printConfigFlag {
			errs = append(errs, &ConfigKeyError{File: path, Key: k})
			continue
		}
		s, err := tomlValueString(values[k])
		if err != nil {
			errs = append(errs, fmt.Errorf("config file %s: key %q: %w", path, k, err))
			continue
		}
		if skip[k] {
			continue
		}
		if err := f.Value.Set(s); err != nil {
			errs = append(errs, fmt.Errorf("config file %s: key %q = %q: %w", path, k, s, err))
		}
	}
	return errors.Join(errs...)
}

// tomlValueString turns a TOML value into the text its flag parses. An array
// becomes a comma-separated list (bootstrap-peers = ["n1=…", "n2=…"]).
func tomlValueString(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case bool:
		return strconv.FormatBool(v), nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64), nil
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			s, err := tomlValueString(e)
			if err != nil {
				return "", err
			}
			if strings.Contains(s, ",") {
				return "", fmt.Errorf("array element %d contains a comma", i)
			}
			parts[i] = s
		}
		return strings.Join(parts, ","), nil
	case map[string]any:
		return "", errors.New("is a table; the file is flat: key = value, one key per flag")
	default:
		return "", fmt.Errorf("has type %T; use a string, number, boolean or array", v)
	}
}

// isSecretFlag reports whether a flag's value must not be shown: keys,
// secrets, tokens and passwords. A TLS key flag names a file, not a secret;
// a rate-limit flag is a number.
func isSecretFlag(name string) bool {
	if strings.Contains(name, "tls") || strings.HasSuffix(name, "-file") || strings.HasPrefix(name, "rate-limit-") {
		return false
	}
	for _, w := range strings.Split(name, "-") {
		switch w {
		case "key", "secret", "token", "password":
			return true
		}
	}
	return false
}

// redacted stands in for a secret's value in printed configuration.
const redacted = "(redacted)"

// writeConfig writes fs's flags as a TOML config file that parseFlags reads
// back: each key under its flag's usage as a comment, in name order,
// secrets replaced by "(redacted)" unless empty. With commented, every key
// line is itself a comment (the example file: defaults shown, none set).
func writeConfig(w io.Writer, fs *flag.FlagSet, commented bool) error {
	var buf bytes.Buffer
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name == configFlag || f.Name == printConfigFlag {
			return
		}
		for _, line := range strings.Split(f.Usage, "\n") {
			fmt.Fprintf(&buf, "# %s\n", line)
		}
		if commented {
			buf.WriteString("# ")
		}
		fmt.Fprintf(&buf, "%s = %s\n\n", f.Name, tomlLiteral(f))
	})
	_, err := w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	return err
}

// tomlLiteral is f's current value as a TOML literal.
func tomlLiteral(f *flag.Flag) string {
	if isSecretFlag(f.Name) && f.Value.String() != "" {
		return quoteTOML(redacted)
	}
	if g, ok := f.Value.(flag.Getter); ok {
		switch v := g.Get().(type) {
		case bool, int, int64, uint, uint64:
			return fmt.Sprint(v)
		case float64:
			return strconv.FormatFloat(v, 'g', -1, 64)
		case time.Duration:
			return quoteTOML(v.String())
		}
	}
	return quoteTOML(f.Value.String())
}

// quoteTOML quotes s as a TOML basic string (JSON's escapes are TOML's).
func quoteTOML(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

// exampleConfigPath is the example config file, relative to the repository.
const exampleConfigPath = "deploy/pushflo.example.toml"

// writeExampleConfig writes the example config file: every serve flag, its
// usage and its default, commented out.
func writeExampleConfig(w io.Writer) error {
	fs, _ := newServeFlags()
	fmt.Fprint(w, `# pushflo serve configuration: pushflo serve --config /etc/pushflo/pushflo.toml
#
# Every key is a flag of 'pushflo serve' (the flag name without the dashes)
# and every flag is a key; a value here is what you would give the flag.
# Durations are strings such as "30s" or "24h"; a list may be a string
# ("n1=10.0.0.1:7000,n2=10.0.0.2:7000") or an array of strings.
#
# Precedence: flags > environment (PUSHFLO_HTTP_ADDR for http-addr) > this
# file > defaults. An unknown key is an error that names it.
# 'pushflo serve --config FILE --print-config' prints what a node would run
# with, secrets redacted.
#
# Each key below is commented out and shows its default.
# Generated from the flags by: go test ./cmd/pushflo -run TestExampleConfig -update

`)
	return writeConfig(w, fs, true)
}
