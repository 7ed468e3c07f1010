package registrytest

import (
	"context"
	"fmt"
	"strconv"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/sync/errgroup"
)

// pushConcurrency is how many repositories PushRepositories fills at once: enough to keep a
// loopback registry busy, few enough not to exhaust its connections.
const pushConcurrency = 16

// PushRepositories pushes one small image (a config and one layer of uniqueLayerSize
// random bytes), tagged "latest", to each of n repositories named prefix/000, prefix/001 …
// (more digits when n needs them), several at a time, and returns their names in that
// order. It fails the test on the first error.
func PushRepositories(t testing.TB, host, prefix string, n int) []string {
	t.Helper()
	width := max(3, len(strconv.Itoa(n-1)))
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("%s/%0*d", prefix, width, i)
	}
	g, ctx := errgroup.WithContext(context.Background())
	g.SetLimit(pushConcurrency)
	for _, repo := range names {
		g.Go(func() error {
			ref, err := name.NewTag(host+"/"+repo+":latest", name.Insecure)
			if err != nil {
				return err
			}
			img, err := random.Image(uniqueLayerSize, 1)
			if err != nil {
				return err
			}
			if err := remote.Write(ref, img, remote.WithContext(ctx)); err != nil {
				return fmt.Errorf("pushing %s: %w", ref, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatalf("filling %d repositories of %s: %v", n, host, err)
	}
	return names
}
