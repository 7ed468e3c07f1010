package ecrtest

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// STS constraints, from the STS API model.
const (
	// stsDefaultDuration and the bounds of DurationSeconds: 15 minutes to 12 hours.
	stsDefaultDuration = time.Hour
	stsMinDuration     = 15 * time.Minute
	stsMaxDuration     = 12 * time.Hour
	// minExternalID and maxExternalID bound ExternalId.
	minExternalID = 2
	maxExternalID = 1224
)

var (
	roleARNPattern     = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$`)
	sessionNamePattern = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
	externalIDPattern  = regexp.MustCompile(`^[\w+=,.@:/-]+$`)
)

const stsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"

// stsError is an STS error: the query protocol's XML ErrorResponse.
type stsError struct {
	status        int
	code, message string
}

func (s *Server) serveSTS(w http.ResponseWriter, r *http.Request, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.replays.Lookup(r); ok {
		w.Header().Set("Content-Type", "text/xml")
		_, _ = w.Write(b)
		return
	}
	form, err := formValues(body)
	if r.Method != http.MethodPost || err != nil {
		s.writeSTSError(w, &stsError{http.StatusBadRequest, "MalformedQueryString", "the request is not a form-encoded STS query"})
		return
	}
	action := form.Get("Action")
	s.called(action)
	key, aerr := s.authenticate(r, body, "sts")
	if key != "" {
		s.keys[action] = append(s.keys[action], key)
	}
	if aerr != nil {
		code := map[string]string{
			"UnrecognizedClientException":         "InvalidClientTokenId",
			"InvalidSignatureException":           "SignatureDoesNotMatch",
			"MissingAuthenticationTokenException": "MissingAuthenticationToken",
			"IncompleteSignatureException":        "IncompleteSignature",
		}[aerr.code]
		s.writeSTSError(w, &stsError{http.StatusForbidden, code, aerr.message})
		return
	}
	if f := s.faults[action]; f != nil && f.n > 0 {
		f.n--
		status := http.StatusBadRequest
		if f.code == "AccessDenied" {
			status = http.StatusForbidden
		}
		s.writeSTSError(w, &stsError{status, f.code, f.message})
		return
	}
	if form.Get("Version") != "2011-06-15" {
		s.writeSTSError(w, &stsError{http.StatusBadRequest, "InvalidParameterValue", "unsupported Version " + form.Get("Version")})
		return
	}
	var out any
	var serr *stsError
	switch action {
	case "AssumeRole":
		out, serr = s.assumeRole(form.Get, key)
	case "GetCallerIdentity":
		out = s.getCallerIdentity(key)
	default:
		serr = &stsError{http.StatusBadRequest, "InvalidAction", "Could not find operation " + action + " for version 2011-06-15"}
	}
	if serr != nil {
		s.writeSTSError(w, serr)
		return
	}
	b, err := xml.Marshal(out)
	if err != nil {
		s.writeSTSError(w, &stsError{http.StatusInternalServerError, "InternalFailure", err.Error()})
		return
	}
	b = append([]byte(xml.Header), b...)
	s.replays.Store(r, b)
	w.Header().Set("Content-Type", "text/xml")
	_, _ = w.Write(b)
}

type assumeRoleResponse struct {
	XMLName  xml.Name `xml:"AssumeRoleResponse"`
	XMLNS    string   `xml:"xmlns,attr"`
	Result   assumeRoleResult
	Metadata responseMetadata `xml:"ResponseMetadata"`
}

type assumeRoleResult struct {
	XMLName         xml.Name `xml:"AssumeRoleResult"`
	Credentials     stsCredentials
	AssumedRoleUser struct {
		AssumedRoleID string `xml:"AssumedRoleId"`
		Arn           string
	}
}

type stsCredentials struct {
	AccessKeyID     string `xml:"AccessKeyId"`
	SecretAccessKey string
	SessionToken    string
	Expiration      string
}

type responseMetadata struct {
	RequestID string `xml:"RequestId"`
}

type getCallerIdentityResponse struct {
	XMLName xml.Name `xml:"GetCallerIdentityResponse"`
	XMLNS   string   `xml:"xmlns,attr"`
	Result  struct {
		Arn     string
		UserID  string `xml:"UserId"`
		Account string
	} `xml:"GetCallerIdentityResult"`
	Metadata responseMetadata `xml:"ResponseMetadata"`
}

// assumeRole issues temporary credentials ASIAASSUMED<n> for the role, which the server
// then accepts with their session token until the end of the test (expiry is not enforced).
// s.mu is held.
func (s *Server) assumeRole(get func(string) string, signer string) (any, *stsError) {
	role, session, external := get("RoleArn"), get("RoleSessionName"), get("ExternalId")
	invalid := func(member, value string) *stsError {
		return &stsError{http.StatusBadRequest, "ValidationError", fmt.Sprintf("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy its pattern and length constraints", value, member)}
	}
	switch {
	case !roleARNPattern.MatchString(role):
		return nil, invalid("roleArn", role)
	case !sessionNamePattern.MatchString(session):
		return nil, invalid("roleSessionName", session)
	case external != "" && (len(external) < minExternalID || len(external) > maxExternalID || !externalIDPattern.MatchString(external)):
		return nil, invalid("externalId", external)
	}
	duration := stsDefaultDuration
	if d := get("DurationSeconds"); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil || time.Duration(n)*time.Second < stsMinDuration || time.Duration(n)*time.Second > stsMaxDuration {
			return nil, invalid("durationSeconds", d)
		}
		duration = time.Duration(n) * time.Second
	}
	s.serial++
	key := fmt.Sprintf("ASIAASSUMED%09d", s.serial)
	sec := secret{
		key:     fmt.Sprintf("assumed-secret-%d", s.serial),
		token:   fmt.Sprintf("assumed-session-token-%d", s.serial),
		role:    role,
		session: session,
	}
	s.secrets[key] = sec
	s.assumed = append(s.assumed, AssumeRoleCall{RoleARN: role, ExternalID: external, SessionName: session, AccessKey: signer})

	out := assumeRoleResponse{XMLNS: stsNamespace}
	out.Result.Credentials = stsCredentials{
		AccessKeyID:     key,
		SecretAccessKey: sec.key,
		SessionToken:    sec.token,
		Expiration:      s.now().Add(duration).Format(time.RFC3339),
	}
	out.Result.AssumedRoleUser.AssumedRoleID = "AROAASSUMED:" + session
	out.Result.AssumedRoleUser.Arn = assumedRoleARN(role, session)
	out.Metadata.RequestID = s.requestID()
	return out, nil
}

// getCallerIdentity names the caller: the base key is a user of the server's account, a
// temporary key the session of the role it was issued for. s.mu is held.
func (s *Server) getCallerIdentity(key string) any {
	out := getCallerIdentityResponse{XMLNS: stsNamespace}
	out.Result.Account = s.account
	out.Result.UserID = "AIDABASE"
	out.Result.Arn = s.callerARN(key)
	if sec := s.secrets[key]; sec.role != "" {
		out.Result.Account = strings.Split(sec.role, ":")[4]
		out.Result.UserID = "AROAASSUMED:" + sec.session
	}
	out.Metadata.RequestID = s.requestID()
	return out
}

// callerARN is the ARN of the holder of an access key: the user "base" of the server's
// account for the base key, the role session a temporary key was issued for. s.mu is held.
func (s *Server) callerARN(key string) string {
	if sec := s.secrets[key]; sec.role != "" {
		return assumedRoleARN(sec.role, sec.session)
	}
	return "arn:aws:iam::" + s.account + ":user/base"
}

// assumedRoleARN is the ARN of a session of role ("arn:aws:iam::ACCOUNT:role/NAME").
func assumedRoleARN(role, session string) string {
	account := strings.Split(role, ":")[4]
	name := role[strings.LastIndexByte(role, '/')+1:]
	return "arn:aws:sts::" + account + ":assumed-role/" + name + "/" + session
}

func (s *Server) writeSTSError(w http.ResponseWriter, e *stsError) {
	type errorBody struct {
		Type    string
		Code    string
		Message string
	}
	out := struct {
		XMLName   xml.Name `xml:"ErrorResponse"`
		XMLNS     string   `xml:"xmlns,attr"`
		Error     errorBody
		RequestID string `xml:"RequestId"`
	}{XMLNS: stsNamespace, Error: errorBody{Type: "Sender", Code: e.code, Message: e.message}, RequestID: s.requestID()}
	if e.status >= 500 {
		out.Error.Type = "Receiver"
	}
	b, _ := xml.Marshal(out)
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(e.status)
	_, _ = w.Write(append([]byte(xml.Header), b...))
}
