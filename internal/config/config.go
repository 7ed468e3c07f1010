// Package config reads shipshape.yaml: shipshape's own settings (safety limits, prices,
// caches, the registries and repository settings that ensure keeps), kept apart from the ECR
// policy JSON so that policies go to ECR unchanged.
package config

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/shipshape-dev/shipshape/internal/inuse"
)

// DefaultFile is the configuration file shipshape reads from the working directory when
// --config is not given and the file exists.
const DefaultFile = "shipshape.yaml"

// Config is the content of shipshape.yaml. Every field is optional.
type Config struct {
	// Safety protects images beyond what a policy keeps.
	Safety Safety `yaml:"safety"`
	// PricePerGBMonth prices storage in the cost figures (USD per GB-month).
	PricePerGBMonth float64 `yaml:"pricePerGBMonth"`
	// CacheDir holds manifests, configs and tag history between runs.
	CacheDir string `yaml:"cacheDir"`
	// Registries are the ECR registries repository settings refer to, by name.
	Registries map[string]Registry `yaml:"registries"`
	// Repositories declare the settings of repositories, by name pattern, that
	// `shipshape ensure` keeps.
	Repositories []RepositorySettings `yaml:"repositories"`

	// dir is the directory of the file, against which relative paths resolve.
	dir string
}

// Safety is the safety section of shipshape.yaml.
type Safety struct {
	// ProtectTags are tag patterns ('*' wildcards) whose images are never removed.
	ProtectTags []string `yaml:"protectTags"`
	// ProtectDigests are digests never removed, with their children and referrers.
	ProtectDigests []string `yaml:"protectDigests"`
	// ProtectDigestsFiles name files of digests, one per line ('#' starts a comment),
	// relative to the configuration file.
	ProtectDigestsFiles []string `yaml:"protectDigestsFiles"`
	// Grace keeps images younger than this ("48h", "7d").
	Grace Duration `yaml:"grace"`
	// MaxDeletePercent refuses plans that remove more of a repository than this.
	MaxDeletePercent float64 `yaml:"maxDeletePercent"`
	// InUse names where images run ("kubernetes:prod-eu", "ecs", "lambda",
	// "manifests:deploy"): what runs there is never removed. A manifests directory is
	// relative to the configuration file.
	InUse []string `yaml:"inUse"`
	// Quarantine is where apply copies every manifest before deleting it, so that
	// shipshape restore can put it back: a directory (an OCI image layout, relative to
	// the configuration file) or a repository HOST/REPO.
	Quarantine string `yaml:"quarantine"`
	// QuarantineBlobs copies layers into the quarantine too, so that a restore works
	// after the registry's garbage collection.
	QuarantineBlobs bool `yaml:"quarantineBlobs"`
}

// Duration is a time.Duration written as Go writes durations, or as whole days ("7d").
type Duration time.Duration

// UnmarshalYAML reads "90m", "48h" or "7d".
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = Duration(v)
	return nil
}

// ParseDuration reads a Go duration ("90m", "48h") or a number of days ("7d").
func ParseDuration(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%q is not a duration such as 48h or 7d", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("%q is not a duration such as 48h or 7d", s)
	}
	return v, nil
}

// Load reads a configuration file strictly: unknown keys are errors with their line. Every
// invalid value is reported (as an ErrorList) with its line and key path; lifecycle policy
// files are read, relative to the configuration file, and validated as ECR would.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	c, err := parse(data, filepath.Dir(path))
	var list ErrorList
	if errors.As(err, &list) {
		for _, e := range list {
			if e.File == "" {
				e.File = path
			}
		}
		return nil, list
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Parse reads a configuration document. Relative paths in it resolve against the working
// directory; Load resolves them against the file's directory.
func Parse(data []byte) (*Config, error) { return parse(data, "") }

func parse(data []byte, dir string) (*Config, error) {
	c := &Config{dir: dir}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w", cleanYAMLError(err))
	}
	// A second decoding, into nodes, gives the line of every value for the errors below.
	var root yaml.Node
	_ = yaml.Unmarshal(data, &root)
	v := &validator{root: &root}
	if c.PricePerGBMonth < 0 {
		v.add(v.at("pricePerGBMonth"), "must not be negative")
	}
	if p := c.Safety.MaxDeletePercent; p < 0 || p > 100 {
		v.add(v.at("safety", "maxDeletePercent"), "must be between 0 and 100, found %v", p)
	}
	for i, d := range c.Safety.ProtectDigests {
		if !ValidDigest(d) {
			v.add(v.at("safety", "protectDigests", i), "%q is not a digest such as sha256:<64 hex digits>", d)
		}
	}
	for i, src := range c.Safety.InUse {
		if _, err := inuse.ParseSpec(src); err != nil {
			v.add(v.at("safety", "inUse", i), "%v", err)
		}
	}
	c.validateEnsure(v)
	if len(v.list) > 0 {
		return nil, v.list
	}
	return c, nil
}

// cleanYAMLError drops the library's "yaml: " prefix and "in type config.Config" noise.
func cleanYAMLError(err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = regexp.MustCompile(` in type [\w.]+`).ReplaceAllString(msg, "")
	msg = strings.ReplaceAll(msg, "unmarshal errors:\n  ", "")
	return errors.New(msg)
}

// Path resolves a path written in the configuration file.
func (c *Config) Path(p string) string {
	if p == "" || filepath.IsAbs(p) || c.dir == "" {
		return p
	}
	return filepath.Join(c.dir, p)
}

// ProtectedDigests gathers the digests of safety.protectDigests and of every file in
// safety.protectDigestsFiles, each with where it was written.
func (c *Config) ProtectedDigests() (map[string]string, error) {
	out := map[string]string{}
	for _, d := range c.Safety.ProtectDigests {
		out[d] = "shipshape.yaml"
	}
	for _, f := range c.Safety.ProtectDigestsFiles {
		if err := ReadDigestsFile(c.Path(f), out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

var digestRE = regexp.MustCompile(`^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$`)

// ValidDigest reports whether d is a sha256 or sha512 digest in canonical form.
func ValidDigest(d string) bool { return digestRE.MatchString(d) }

// ReadDigestsFile adds the digests listed in the file at path to into, each with its
// "file:line". Lines hold one digest; blank lines and text after '#' are ignored.
func ReadDigestsFile(path string, into map[string]string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("reading protected digests: %w", err)
	}
	defer f.Close()
	return ReadDigests(f, path, into)
}

// ReadDigests is ReadDigestsFile for any reader; name is used in errors and sources.
func ReadDigests(r io.Reader, name string, into map[string]string) error {
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if !ValidDigest(line) {
			// The line is not quoted: a file given here by mistake may hold a secret.
			return fmt.Errorf("%s:%d: not a digest such as sha256:<64 hex digits>", name, n)
		}
		into[line] = fmt.Sprintf("%s:%d", name, n)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading %s: %w", name, err)
	}
	return nil
}
