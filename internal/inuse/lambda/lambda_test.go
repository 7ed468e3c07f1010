package lambda_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	lambdasdk "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/inuse"
	"github.com/shipshape-dev/shipshape/internal/inuse/lambda"
	"github.com/shipshape-dev/shipshape/internal/inuse/lambda/lambdatest"
)

const repo = "123456789012.dkr.ecr.us-east-1.amazonaws.com/app"

// digest returns a digest made from s.
func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// build returns the code of an image function deployed from repo:tag.
func build(tag string) lambdatest.Code {
	return lambdatest.Code{ImageURI: repo + ":" + tag, ResolvedImageURI: repo + "@" + digest(tag)}
}

// deployed fills a server with an image function with three published versions and
// aliases, an image function never published and deployed by digest, and a .zip
// function.
func deployed(t *testing.T, s *lambdatest.Server) {
	t.Helper()
	s.CreateFunction("api", build("v1"))
	s.PublishVersion("api") // 1
	s.UpdateFunctionCode("api", build("v2"))
	s.PublishVersion("api") // 2
	s.UpdateFunctionCode("api", build("v3"))
	s.PublishVersion("api") // 3
	s.UpdateFunctionCode("api", build("v4"))
	s.CreateAlias("api", "prod", "2", map[string]float64{"3": 0.1}) // canary of 3
	s.CreateAlias("api", "live", "2", nil)
	s.CreateAlias("api", "old", "1", nil)

	s.CreateFunction("cron", lambdatest.Code{ImageURI: repo + "@" + digest("cron")})
	s.CreateFunction("zipped", lambdatest.Code{})
	s.PublishVersion("zipped")
}

func TestList(t *testing.T) {
	t.Parallel()
	s := lambdatest.New(t)
	deployed(t, s)

	got, err := lambda.NewFromConfig(s.AWSConfig(), lambda.Options{}).List(context.Background())
	if err != nil {
		t.Fatalf("List() error = %v", err)
	}
	want := []inuse.Use{
		{Image: repo + ":v4", Digest: digest("v4"), Where: "lambda:api:$LATEST"},
		{Image: repo + ":v1", Digest: digest("v1"), Where: "lambda:api:1 (alias old)"},
		{Image: repo + ":v2", Digest: digest("v2"), Where: "lambda:api:2 (aliases live, prod)"},
		{Image: repo + ":v3", Digest: digest("v3"), Where: "lambda:api:3 (alias prod)"},
		{Image: repo + "@" + digest("cron"), Digest: digest("cron"), Where: "lambda:cron:$LATEST"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("List() mismatch (-want +got):\n%s", diff)
	}
	// The .zip function is neither read nor listed.
	if n := s.Calls("GetFunction"); n != len(want) {
		t.Errorf("GetFunction calls = %d, want %d", n, len(want))
	}
	if n := s.Calls("ListAliases"); n != 2 {
		t.Errorf("ListAliases calls = %d, want 2", n)
	}
}

func TestListWithoutResolvedDigest(t *testing.T) {
	t.Parallel()
	s := lambdatest.New(t)
	s.CreateFunction("api", lambdatest.Code{ImageURI: repo + ":v1"})
	got, err := lambda.NewFromConfig(s.AWSConfig(), lambda.Options{}).List(context.Background())
	if err != nil {
		t.Fatalf("List() error = %v", err)
	}
	want := []inuse.Use{{Image: repo + ":v1", Where: "lambda:api:$LATEST"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("List() mismatch (-want +got):\n%s", diff)
	}
}

func TestListPages(t *testing.T) {
	t.Parallel()
	const (
		functions = 30 // each with $LATEST and two versions: 90 entries, two pages
		aliases   = lambda.ListAliasesPageSize + 3
	)
	s := lambdatest.New(t)
	for n := range functions {
		name := fmt.Sprintf("f%02d", n)
		s.CreateFunction(name, build(name))
		s.PublishVersion(name)
		s.PublishVersion(name)
	}
	for n := range aliases {
		s.CreateAlias("f00", fmt.Sprintf("a%02d", n), "1", nil)
	}
	got, err := lambda.NewFromConfig(s.AWSConfig(), lambda.Options{}).List(context.Background())
	if err != nil {
		t.Fatalf("List() error = %v", err)
	}
	if len(got) != 3*functions {
		t.Errorf("List() returned %d uses, want %d", len(got), 3*functions)
	}
	if !strings.HasPrefix(got[1].Where, "lambda:f00:1 (aliases a00, a01, ") || !strings.HasSuffix(got[1].Where, fmt.Sprintf(" a%02d)", aliases-1)) {
		t.Errorf("List()[1].Where = %q, want version 1 of f00 with all its aliases", got[1].Where)
	}
	for op, want := range map[string]int{
		"ListFunctions": 2,
		"ListAliases":   functions + 1,
		"GetFunction":   3 * functions,
	} {
		if n := s.Calls(op); n != want {
			t.Errorf("%s calls = %d, want %d", op, n, want)
		}
	}
}

// racing is a Lambda client whose ListFunctions misses a version, as a listing does that
// runs while the version is published and an alias moved to it.
type racing struct {
	*lambdasdk.Client
	missing string
}

func (r racing) ListFunctions(ctx context.Context, in *lambdasdk.ListFunctionsInput, optFns ...func(*lambdasdk.Options)) (*lambdasdk.ListFunctionsOutput, error) {
	out, err := r.Client.ListFunctions(ctx, in, optFns...)
	if err == nil {
		out.Functions = slices.DeleteFunc(out.Functions, func(f types.FunctionConfiguration) bool { return aws.ToString(f.Version) == r.missing })
	}
	return out, err
}

func TestListVersionOnlyAnAliasNames(t *testing.T) {
	t.Parallel()
	s := lambdatest.New(t)
	s.CreateFunction("api", build("v1"))
	s.PublishVersion("api")
	s.UpdateFunctionCode("api", build("v2"))
	s.PublishVersion("api")
	s.CreateAlias("api", "live", "2", nil)

	got, err := lambda.New(racing{Client: s.Lambda(), missing: "2"}, lambda.Options{}).List(context.Background())
	if err != nil {
		t.Fatalf("List() error = %v", err)
	}
	want := []inuse.Use{
		{Image: repo + ":v2", Digest: digest("v2"), Where: "lambda:api:$LATEST"},
		{Image: repo + ":v1", Digest: digest("v1"), Where: "lambda:api:1"},
		{Image: repo + ":v2", Digest: digest("v2"), Where: "lambda:api:2 (alias live)"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("List() mismatch (-want +got):\n%s", diff)
	}
}

func TestListErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		fault lambdatest.Fault
		want  []string // in the error's message
	}{
		{
			name:  "cannot list functions",
			fault: lambdatest.Fault{Op: "ListFunctions", Code: "AccessDeniedException", Message: "not authorized"},
			want:  []string{"ListFunctions", "AccessDeniedException", "not authorized"},
		},
		{
			name:  "cannot list the aliases of one function",
			fault: lambdatest.Fault{Op: "ListAliases", Function: "cron", Code: "AccessDeniedException", Message: "not authorized"},
			want:  []string{"ListAliases of function cron", "AccessDeniedException"},
		},
		{
			name:  "cannot get one function",
			fault: lambdatest.Fault{Op: "GetFunction", Function: "api", Code: "AccessDeniedException", Message: "not authorized"},
			want:  []string{"GetFunction of api:", "AccessDeniedException"},
		},
		{
			name:  "throttled beyond retries",
			fault: lambdatest.Fault{Op: "ListFunctions", Code: "TooManyRequestsException", Message: "Rate exceeded"},
			want:  []string{"ListFunctions", "TooManyRequestsException", "Rate exceeded"},
		},
		{
			name:  "a function removed while listing",
			fault: lambdatest.Fault{Op: "GetFunction", Function: "cron", Code: "ResourceNotFoundException", Message: "Function not found"},
			want:  []string{"GetFunction of cron:$LATEST", "ResourceNotFoundException"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := lambdatest.New(t)
			deployed(t, s)
			s.Fail(tc.fault)
			got, err := lambda.NewFromConfig(s.AWSConfig(), lambda.Options{}).List(context.Background())
			if err == nil {
				t.Fatalf("List() = %d uses, want an error", len(got))
			}
			if got != nil {
				t.Errorf("List() = %v with the error, want no uses", got)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("List() error = %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestListRetriesThrottling(t *testing.T) {
	t.Parallel()
	s := lambdatest.New(t)
	deployed(t, s)
	want, err := lambda.NewFromConfig(s.AWSConfig(), lambda.Options{}).List(context.Background())
	if err != nil {
		t.Fatalf("List() error = %v", err)
	}

	before := s.Calls("ListFunctions")
	s.Fail(lambdatest.Fault{Op: "ListFunctions", Times: 2, Code: "TooManyRequestsException", Message: "Rate exceeded"})
	s.Fail(lambdatest.Fault{Op: "ListAliases", Function: "api", Times: 2, Code: "TooManyRequestsException", Message: "Rate exceeded"})
	s.Fail(lambdatest.Fault{Op: "GetFunction", Function: "api", Times: 2, Code: "TooManyRequestsException", Message: "Rate exceeded"})
	got, err := lambda.NewFromConfig(s.AWSConfig(), lambda.Options{}).List(context.Background())
	if err != nil {
		t.Fatalf("List() error = %v, want the SDK to retry", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("List() after throttling mismatch (-want +got):\n%s", diff)
	}
	if n := s.Calls("ListFunctions") - before; n != 3 {
		t.Errorf("ListFunctions calls = %d, want 3", n)
	}
}

func TestListIsDeterministic(t *testing.T) {
	t.Parallel()
	s := lambdatest.New(t)
	deployed(t, s)
	for n := range 20 {
		name := fmt.Sprintf("fn%02d", 19-n)
		s.CreateFunction(name, build(name))
		s.PublishVersion(name)
		s.CreateAlias(name, "b", "1", nil)
		s.CreateAlias(name, "a", "1", nil)
	}
	src := lambda.NewFromConfig(s.AWSConfig(), lambda.Options{})
	first, err := src.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		got, err := src.List(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(first, got); diff != "" {
			t.Fatalf("List() differs (-first +got):\n%s", diff)
		}
	}
}

func TestName(t *testing.T) {
	t.Parallel()
	if got := lambda.New(nil, lambda.Options{}).Name(); got != "lambda" {
		t.Errorf("Name() = %q, want lambda", got)
	}
	if got := lambda.New(nil, lambda.Options{Region: "eu-west-1"}).Name(); got != "lambda@eu-west-1" {
		t.Errorf("Name() = %q, want lambda@eu-west-1", got)
	}
}
