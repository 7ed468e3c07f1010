package registrytest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// distributionRestarts bounds the attempts to start a registry again on its address: another
// process may take the port in the moment between stop and start.
const distributionRestarts = 5

// Distribution is a CNCF distribution registry (Debian's docker-registry) whose storage
// outlives its process, so that a test can collect its garbage as an operator would: stop
// the registry, run docker-registry garbage-collect, start it again.
type Distribution struct {
	// Host is the registry's address ("127.0.0.1:PORT"); it stays the same across
	// GarbageCollect.
	Host string

	bin    string
	config string // the registry's configuration file

	mu   sync.Mutex
	stop func() // stops the running process; nil when none runs
}

// StartDistributionGC starts a Distribution registry (deletion enabled, storage in a
// temporary directory, killed when the test ends), and returns it with a way to collect its
// garbage; StartDistribution returns only its host. Without the binary the test is skipped, or fails when
// SHIPSHAPE_REQUIRE_REGISTRY=1.
func StartDistributionGC(t testing.TB) *Distribution {
	t.Helper()
	bin, err := exec.LookPath("docker-registry")
	if err != nil {
		msg := "docker-registry not found (install it with: apt-get install docker-registry)"
		if os.Getenv(RequireRegistryEnv) == "1" {
			t.Fatalf("%s, and %s=1", msg, RequireRegistryEnv)
		}
		t.Skip(msg)
	}
	d := &Distribution{bin: bin}
	t.Cleanup(d.kill)
	var lastErr error
	for range 3 {
		host, err := freeLoopbackAddr()
		if err != nil {
			t.Fatalf("finding a free port: %v", err)
		}
		if lastErr = d.configure(t.TempDir(), host); lastErr != nil {
			t.Fatalf("configuring docker-registry: %v", lastErr)
		}
		if lastErr = d.start(); lastErr == nil {
			return d
		}
	}
	t.Fatalf("starting docker-registry: %v", lastErr)
	return nil
}

// GarbageCollect stops the registry, runs docker-registry garbage-collect on its storage
// (keeping untagged manifests: only blobs no manifest references go) and starts it again on
// the same address. The restart also empties the registry's in-memory blob descriptor cache,
// which would otherwise still answer for the blobs just removed.
func (d *Distribution) GarbageCollect(t testing.TB) {
	t.Helper()
	d.kill()
	out, err := exec.Command(d.bin, "garbage-collect", "--delete-untagged=false", d.config).CombinedOutput()
	if err != nil {
		t.Fatalf("docker-registry garbage-collect: %v: %s", err, out)
	}
	var lastErr error
	for range distributionRestarts {
		if lastErr = d.start(); lastErr == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("restarting docker-registry on %s: %v", d.Host, lastErr)
}

// configure writes the configuration of a registry storing under dir and serving host.
func (d *Distribution) configure(dir, host string) error {
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return err
	}
	config := fmt.Sprintf(`version: 0.1
log:
  level: error
  accesslog: {disabled: true}
storage:
  filesystem: {rootdirectory: %q}
  delete: {enabled: true}
  cache: {blobdescriptor: inmemory}
http:
  addr: %s
  secret: registrytest
`, data, host)
	cfg := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfg, []byte(config), 0o644); err != nil {
		return err
	}
	d.Host, d.config = host, cfg
	return nil
}

// start starts the registry process and waits until it answers /v2/.
func (d *Distribution) start() error {
	var out lockedBuffer
	cmd := exec.Command(d.bin, "serve", d.config)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	stop := func() {
		cmd.Process.Kill()
		<-exited
	}
	deadline := time.Now().Add(distributionStartTimeout)
	for {
		select {
		case <-exited:
			return fmt.Errorf("docker-registry exited: %s", out.String())
		default:
		}
		if pingV2(d.Host) {
			d.mu.Lock()
			d.stop = stop
			d.mu.Unlock()
			return nil
		}
		if time.Now().After(deadline) {
			stop()
			return fmt.Errorf("docker-registry did not answer within %v: %s", distributionStartTimeout, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill stops the registry process, if one runs.
func (d *Distribution) kill() {
	d.mu.Lock()
	stop := d.stop
	d.stop = nil
	d.mu.Unlock()
	if stop != nil {
		stop()
	}
}
