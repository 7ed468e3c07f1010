package lambdatest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/shipshape-dev/shipshape/internal/inuse/lambda/lambdatest"
)

// apiCode returns the error code of an SDK error, or "".
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func image(tag string) lambdatest.Code {
	return lambdatest.Code{ImageURI: "repo:" + tag, ResolvedImageURI: "repo@sha256:" + strings.Repeat(tag[len(tag)-1:], 64)}
}

// listAll pages through ListFunctions and returns "NAME:VERSION PACKAGETYPE" of each
// entry and the size of each page.
func listAll(t *testing.T, c *lambda.Client, in *lambda.ListFunctionsInput) (entries []string, sizes []int) {
	t.Helper()
	for {
		out, err := c.ListFunctions(context.Background(), in)
		if err != nil {
			t.Fatalf("ListFunctions() error = %v", err)
		}
		for _, f := range out.Functions {
			entries = append(entries, aws.ToString(f.FunctionName)+":"+aws.ToString(f.Version)+" "+string(f.PackageType))
		}
		sizes = append(sizes, len(out.Functions))
		if out.NextMarker == nil {
			return entries, sizes
		}
		in.Marker = out.NextMarker
	}
}

func TestListFunctions(t *testing.T) {
	t.Parallel()
	s := lambdatest.New(t)
	s.CreateFunction("b", image("1"))
	s.PublishVersion("b")
	s.PublishVersion("b")
	s.CreateFunction("a", lambdatest.Code{})
	s.PublishVersion("a")
	c := s.Lambda()

	all, sizes := listAll(t, c, &lambda.ListFunctionsInput{FunctionVersion: types.FunctionVersionAll, MaxItems: aws.Int32(2)})
	if diff := cmp.Diff([]string{"a:$LATEST Zip", "a:1 Zip", "b:$LATEST Image", "b:1 Image", "b:2 Image"}, all); diff != "" {
		t.Errorf("ListFunctions(ALL) mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{2, 2, 1}, sizes); diff != "" {
		t.Errorf("page sizes mismatch (-want +got):\n%s", diff)
	}
	latest, _ := listAll(t, c, &lambda.ListFunctionsInput{})
	if diff := cmp.Diff([]string{"a:$LATEST Zip", "b:$LATEST Image"}, latest); diff != "" {
		t.Errorf("ListFunctions() mismatch (-want +got):\n%s", diff)
	}
}

func TestListFunctionsReturnsAtMost50(t *testing.T) {
	t.Parallel()
	s := lambdatest.New(t)
	for n := range 60 {
		s.CreateFunction(fmt.Sprintf("f%02d", n), image("1"))
	}
	_, sizes := listAll(t, s.Lambda(), &lambda.ListFunctionsInput{MaxItems: aws.Int32(1000)})
	if diff := cmp.Diff([]int{50, 10}, sizes); diff != "" {
		t.Errorf("page sizes mismatch (-want +got):\n%s", diff)
	}
}

func TestGetFunction(t *testing.T) {
	t.Parallel()
	s := lambdatest.New(t)
	s.CreateFunction("api", image("1"))
	s.PublishVersion("api")
	s.UpdateFunctionCode("api", image("2"))
	s.CreateAlias("api", "live", "1", nil)
	s.CreateFunction("zipped", lambdatest.Code{})
	c := s.Lambda()

	for _, tc := range []struct {
		name, qualifier string
		want            string // "VERSION IMAGEURI RESOLVED"
		wantCode        string
	}{
		{name: "api", want: "$LATEST repo:2 repo@sha256:" + strings.Repeat("2", 64)},
		{name: "api", qualifier: "1", want: "1 repo:1 repo@sha256:" + strings.Repeat("1", 64)},
		{name: "api", qualifier: "live", want: "1 repo:1 repo@sha256:" + strings.Repeat("1", 64)},
		{name: lambdatest.FunctionARN("api"), qualifier: "$LATEST", want: "$LATEST repo:2 repo@sha256:" + strings.Repeat("2", 64)},
		{name: lambdatest.FunctionARN("api") + ":1", want: "1 repo:1 repo@sha256:" + strings.Repeat("1", 64)},
		{name: "api:1", want: "1 repo:1 repo@sha256:" + strings.Repeat("1", 64)},
		{name: "zipped", want: "$LATEST  "},
		{name: "api:1", qualifier: "2", wantCode: "InvalidParameterValueException"},
		{name: "api", qualifier: "9", wantCode: "ResourceNotFoundException"},
		{name: "nope", wantCode: "ResourceNotFoundException"},
	} {
		in := &lambda.GetFunctionInput{FunctionName: aws.String(tc.name)}
		if tc.qualifier != "" {
			in.Qualifier = aws.String(tc.qualifier)
		}
		out, err := c.GetFunction(context.Background(), in)
		if tc.wantCode != "" {
			if apiCode(err) != tc.wantCode {
				t.Errorf("GetFunction(%s, %q) error = %v, want %s", tc.name, tc.qualifier, err, tc.wantCode)
			}
			continue
		}
		if err != nil {
			t.Errorf("GetFunction(%s, %q) error = %v", tc.name, tc.qualifier, err)
			continue
		}
		got := aws.ToString(out.Configuration.Version) + " " + aws.ToString(out.Code.ImageUri) + " " + aws.ToString(out.Code.ResolvedImageUri)
		if got != tc.want {
			t.Errorf("GetFunction(%s, %q) = %q, want %q", tc.name, tc.qualifier, got, tc.want)
		}
	}
}

func TestListAliases(t *testing.T) {
	t.Parallel()
	s := lambdatest.New(t)
	s.CreateFunction("api", image("1"))
	s.PublishVersion("api")
	s.PublishVersion("api")
	s.CreateAlias("api", "live", "2", map[string]float64{"1": 0.25})
	s.CreateAlias("api", "old", "1", nil)
	s.CreateAlias("api", "dev", "$LATEST", nil)
	c := s.Lambda()

	var got []string
	in := &lambda.ListAliasesInput{FunctionName: aws.String("api"), MaxItems: aws.Int32(1)}
	for {
		out, err := c.ListAliases(context.Background(), in)
		if err != nil {
			t.Fatalf("ListAliases() error = %v", err)
		}
		for _, a := range out.Aliases {
			e := aws.ToString(a.Name) + "→" + aws.ToString(a.FunctionVersion)
			if a.RoutingConfig != nil {
				e += fmt.Sprint(a.RoutingConfig.AdditionalVersionWeights)
			}
			got = append(got, e)
		}
		if out.NextMarker == nil {
			break
		}
		in.Marker = out.NextMarker
	}
	if diff := cmp.Diff([]string{"dev→$LATEST", "live→2map[1:0.25]", "old→1"}, got); diff != "" {
		t.Errorf("ListAliases() mismatch (-want +got):\n%s", diff)
	}

	out, err := c.ListAliases(context.Background(), &lambda.ListAliasesInput{FunctionName: aws.String("api"), FunctionVersion: aws.String("1")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Aliases) != 1 || aws.ToString(out.Aliases[0].Name) != "old" {
		t.Errorf("ListAliases(FunctionVersion 1) = %+v, want old", out.Aliases)
	}
	if _, err := c.ListAliases(context.Background(), &lambda.ListAliasesInput{FunctionName: aws.String("nope")}); apiCode(err) != "ResourceNotFoundException" {
		t.Errorf("ListAliases(nope) error = %v, want ResourceNotFoundException", err)
	}
}

func TestInvalidRequests(t *testing.T) {
	t.Parallel()
	s := lambdatest.New(t)
	s.CreateFunction("a", image("1"))
	s.CreateFunction("b", image("1"))
	c := s.Lambda()
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"MaxItems zero", func() error {
			_, err := c.ListFunctions(ctx, &lambda.ListFunctionsInput{MaxItems: aws.Int32(0)})
			return err
		}},
		{"MaxItems too large", func() error {
			_, err := c.ListAliases(ctx, &lambda.ListAliasesInput{FunctionName: aws.String("a"), MaxItems: aws.Int32(10001)})
			return err
		}},
		{"marker of another operation", func() error {
			out, err := c.ListFunctions(ctx, &lambda.ListFunctionsInput{MaxItems: aws.Int32(1)})
			if err != nil {
				return err
			}
			_, err = c.ListAliases(ctx, &lambda.ListAliasesInput{FunctionName: aws.String("a"), Marker: out.NextMarker})
			return err
		}},
		{"unimplemented parameter", func() error {
			_, err := c.ListFunctions(ctx, &lambda.ListFunctionsInput{FunctionVersion: types.FunctionVersionAll, MasterRegion: aws.String("us-east-1")})
			return err
		}},
	} {
		if err := tc.call(); apiCode(err) != "InvalidParameterValueException" {
			t.Errorf("%s: error = %v, want InvalidParameterValueException", tc.name, err)
		}
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	s := lambdatest.New(t)
	s.CreateFunction("a", image("1"))
	s.CreateFunction("b", image("1"))
	c := s.Lambda()
	ctx := context.Background()
	get := func(name string) error {
		_, err := c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)})
		return err
	}

	s.Fail(lambdatest.Fault{Op: "GetFunction", Function: "b", Code: "AccessDeniedException", Message: "no"})
	if err := get("a"); err != nil {
		t.Errorf("GetFunction(a) error = %v, want the fault to spare function a", err)
	}
	for _, id := range []string{"b", lambdatest.FunctionARN("b") + ":1"} {
		if err := get(id); apiCode(err) != "AccessDeniedException" {
			t.Errorf("GetFunction(%s) error = %v, want AccessDeniedException", id, err)
		}
	}

	s.Fail(lambdatest.Fault{Op: "ListAliases", Times: 2, Code: "TooManyRequestsException", Message: "Rate exceeded"})
	if _, err := c.ListAliases(ctx, &lambda.ListAliasesInput{FunctionName: aws.String("a")}); err != nil {
		t.Errorf("ListAliases() error = %v, want success on the third attempt", err)
	}
	if n := s.Calls("ListAliases"); n != 3 {
		t.Errorf("ListAliases calls = %d, want 3", n)
	}

	s.Fail(lambdatest.Fault{Op: "ListFunctions", Code: "TooManyRequestsException", Message: "Rate exceeded"})
	if _, err := c.ListFunctions(ctx, &lambda.ListFunctionsInput{}); apiCode(err) != "TooManyRequestsException" {
		t.Errorf("ListFunctions() error = %v, want TooManyRequestsException", err)
	}
	if n := s.Calls("ListFunctions"); n != lambdatest.ClientMaxAttempts {
		t.Errorf("ListFunctions calls = %d, want %d", n, lambdatest.ClientMaxAttempts)
	}
}

// TestWire checks what the SDK does not show: status codes and error headers.
func TestWire(t *testing.T) {
	t.Parallel()
	s := lambdatest.New(t)
	s.CreateFunction("a", image("1"))
	s.Fail(lambdatest.Fault{Op: "ListAliases", Code: "TooManyRequestsException", Message: "Rate exceeded"})
	s.Fail(lambdatest.Fault{Op: "ListFunctions", Code: "AccessDeniedException", Message: "no"})
	const signed = "AWS4-HMAC-SHA256 Credential=" + lambdatest.AccessKeyID + "/20260601/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=00"
	for _, tc := range []struct {
		name, method, path, auth string
		wantStatus               int
		wantCode                 string
	}{
		{"ok", "GET", "/2015-03-31/functions/a?Qualifier=%24LATEST", signed, 200, ""},
		{"denied", "GET", "/2015-03-31/functions/", signed, 403, "AccessDeniedException"},
		{"throttled", "GET", "/2015-03-31/functions/a/aliases", signed, 429, "TooManyRequestsException"},
		{"not found", "GET", "/2015-03-31/functions/b", signed, 404, "ResourceNotFoundException"},
		{"unsigned", "GET", "/2015-03-31/functions/a", "", 403, "MissingAuthenticationTokenException"},
		{"another service", "GET", "/2015-03-31/functions/a", strings.Replace(signed, "/lambda/", "/ecs/", 1), 403, "InvalidSignatureException"},
		{"unknown operation", "DELETE", "/2015-03-31/functions/a", signed, 404, "UnknownOperationException"},
	} {
		req, err := http.NewRequest(tc.method, s.URL+tc.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Amz-Date", "20260601T000000Z")
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if code := resp.Header.Get("X-Amzn-Errortype"); resp.StatusCode != tc.wantStatus || code != tc.wantCode {
			t.Errorf("%s: status %d, X-Amzn-ErrorType %q; want %d, %q", tc.name, resp.StatusCode, code, tc.wantStatus, tc.wantCode)
		}
	}
}
