package ecrtest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// sigV4Algorithm is the only signing algorithm the server accepts.
const sigV4Algorithm = "AWS4-HMAC-SHA256"

// authenticate checks r's Signature Version 4 signature for service ("ecr" or "sts"),
// recomputing it from the headers the client says it signed and the secret of its access
// key. It returns the access key, when the request names one, and the error AWS would
// answer with, if any. s.mu is held.
func (s *Server) authenticate(r *http.Request, body []byte, service string) (string, *apiError) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return "", &apiError{code: "MissingAuthenticationTokenException", message: "Missing Authentication Token"}
	}
	algorithm, params, _ := strings.Cut(auth, " ")
	fields := make(map[string]string)
	for _, f := range strings.Split(params, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(f), "=")
		fields[k] = v
	}
	scope := strings.Split(fields["Credential"], "/")
	if algorithm != sigV4Algorithm || len(scope) != 5 || scope[4] != "aws4_request" || fields["SignedHeaders"] == "" || fields["Signature"] == "" {
		return "", &apiError{code: "IncompleteSignatureException", message: "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters: " + auth}
	}
	key := scope[0]
	sec, ok := s.secrets[key]
	if !ok {
		return key, &apiError{code: "UnrecognizedClientException", message: "The security token included in the request is invalid."}
	}
	if sec.token != r.Header.Get("X-Amz-Security-Token") {
		return key, &apiError{code: "UnrecognizedClientException", message: "The security token included in the request is invalid."}
	}
	if scope[3] != service {
		return key, &apiError{code: "InvalidSignatureException", message: "Credential should be scoped to correct service: '" + service + "'."}
	}
	date := r.Header.Get("X-Amz-Date")
	if !strings.HasPrefix(date, scope[1]) {
		return key, &apiError{code: "InvalidSignatureException", message: "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP."}
	}

	signed := strings.Split(fields["SignedHeaders"], ";")
	var canon strings.Builder
	canon.WriteString(r.Method + "\n")
	canon.WriteString(canonicalPath(r.URL) + "\n")
	canon.WriteString(canonicalQuery(r.URL.Query()) + "\n")
	for _, h := range signed {
		var v string
		switch h {
		case "host":
			v = r.Host
		case "content-length":
			v = strconv.FormatInt(r.ContentLength, 10)
		default:
			vals := r.Header.Values(h)
			for i := range vals {
				vals[i] = strings.Join(strings.Fields(vals[i]), " ")
			}
			v = strings.Join(vals, ",")
		}
		canon.WriteString(h + ":" + v + "\n")
	}
	canon.WriteString("\n" + fields["SignedHeaders"] + "\n")
	payload := r.Header.Get("X-Amz-Content-Sha256")
	if payload == "" {
		sum := sha256.Sum256(body)
		payload = hex.EncodeToString(sum[:])
	}
	canon.WriteString(payload)

	canonSum := sha256.Sum256([]byte(canon.String()))
	toSign := sigV4Algorithm + "\n" + date + "\n" + strings.Join(scope[1:], "/") + "\n" + hex.EncodeToString(canonSum[:])
	k := hmacSHA256([]byte("AWS4"+sec.key), scope[1])
	for _, part := range scope[2:] {
		k = hmacSHA256(k, part)
	}
	want := hex.EncodeToString(hmacSHA256(k, toSign))
	if !hmac.Equal([]byte(want), []byte(fields["Signature"])) {
		return key, &apiError{code: "InvalidSignatureException", message: "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."}
	}
	return key, nil
}

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

func canonicalPath(u *url.URL) string {
	if p := u.EscapedPath(); p != "" {
		return p
	}
	return "/"
}

func canonicalQuery(q url.Values) string {
	var parts []string
	for k, vs := range q {
		for _, v := range vs {
			parts = append(parts, awsEscape(k)+"="+awsEscape(v))
		}
	}
	slices.Sort(parts)
	return strings.Join(parts, "&")
}

// awsEscape percent-encodes s as RFC 3986 asks and SigV4 requires.
func awsEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}
