package main

import (
	"context"
	"encoding/json"
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry/remote"
)

func TestGenerate(t *testing.T) {
	o := options{builds: 150, seed: 1, now: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)}
	_, builds, err := generate(o)
	if err != nil {
		t.Fatal(err)
	}
	tags := map[string]bool{}
	second := 0
	for _, b := range builds {
		for _, tag := range b.tags {
			if tags[tag] {
				t.Fatalf("tag %s used twice", tag)
			}
			tags[tag] = true
		}
		if len(b.tags) == 2 {
			second++
		}
	}
	if len(tags) != 200 || second != 50 {
		t.Errorf("generate(150 builds) = %d tags, %d builds with two tags; want 200 and 50", len(tags), second)
	}

	var idx ocispec.Index
	if err := json.Unmarshal(builds[0].manifests[2].data, &idx); err != nil {
		t.Fatal(err)
	}
	img, att := idx.Manifests[0], idx.Manifests[1]
	if len(idx.Manifests) != 2 || img.Platform.OS != "linux" || att.Platform.OS != "unknown" ||
		att.Annotations["vnd.docker.reference.type"] != "attestation-manifest" ||
		att.Annotations["vnd.docker.reference.digest"] != img.Digest.String() ||
		img.Digest != builds[0].manifests[0].desc.Digest {
		t.Errorf("index of build 0 is not buildx-shaped: %s", builds[0].manifests[2].data)
	}
	if got := idx.Annotations[annotationCreated]; got == "" {
		t.Errorf("index of build 0 has no %s annotation", annotationCreated)
	}
}

func TestRunPushes(t *testing.T) {
	srv := httptest.NewServer(ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	o := options{registry: host, repo: "bench/app", builds: 24, seed: 7, concurrency: 4, now: time.Now().UTC()}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := run(ctx, o); err != nil {
		t.Fatal(err)
	}

	repo, err := remote.NewRepository(host + "/bench/app")
	if err != nil {
		t.Fatal(err)
	}
	repo.PlainHTTP = true
	var tags []string
	if err := repo.Tags(ctx, "", func(page []string) error { tags = append(tags, page...); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(tags) != 32 {
		t.Fatalf("registry has %d tags, want 32: %v", len(tags), tags)
	}
	desc, rc, err := repo.FetchReference(ctx, tags[0])
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	data, err := content.ReadAll(rc, desc)
	if err != nil {
		t.Fatal(err)
	}
	var idx ocispec.Index
	if err := json.Unmarshal(data, &idx); err != nil || desc.MediaType != ocispec.MediaTypeImageIndex {
		t.Fatalf("tag %s is %s, want an image index: %s", tags[0], desc.MediaType, data)
	}
	for _, child := range idx.Manifests {
		r, err := repo.Fetch(ctx, child)
		if err != nil {
			t.Fatalf("child %s of %s: %v", child.Digest, tags[0], err)
		}
		io.Copy(io.Discard, r)
		r.Close()
	}
}
