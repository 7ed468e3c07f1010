package ecrtest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// epoch is a timestamp as the JSON protocols send it: seconds since the Unix epoch, with
// milliseconds as the fraction.
type epoch time.Time

func (e epoch) MarshalJSON() ([]byte, error) {
	return []byte(strconv.FormatFloat(float64(time.Time(e).UnixMilli())/1000, 'f', -1, 64)), nil
}

// ts returns t for a response member, nil (omitted) when t is zero.
func ts(t time.Time) *epoch {
	if t.IsZero() {
		return nil
	}
	e := epoch(t)
	return &e
}

// imageID is an ImageIdentifier.
type imageID struct {
	ImageDigest string `json:"imageDigest,omitempty"`
	ImageTag    string `json:"imageTag,omitempty"`
}

// String formats the identifier as ECR's messages do.
func (id imageID) String() string {
	d, t := "null", "null"
	if id.ImageDigest != "" {
		d = id.ImageDigest
	}
	if id.ImageTag != "" {
		t = id.ImageTag
	}
	return fmt.Sprintf("{imageDigest:'%s', imageTag:'%s'}", d, t)
}

// imageFailure is an ImageFailure.
type imageFailure struct {
	ImageID       imageID `json:"imageId"`
	FailureCode   string  `json:"failureCode"`
	FailureReason string  `json:"failureReason"`
}

// Patterns and bounds of the ECR API model.
var (
	repositoryNamePattern = regexp.MustCompile(`^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$`)
	digestPattern         = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
	tagPattern            = regexp.MustCompile(`^[\w][\w.-]{0,299}$`)
	registryIDPattern     = regexp.MustCompile(`^[0-9]{12}$`)
)

const (
	minRepositoryName = 2
	maxRepositoryName = 256
)

// pageToken is the state a nextToken carries: the operation it belongs to and the key
// after which the next page starts. Tokens are opaque to clients.
type pageToken struct {
	Op    string `json:"o"`
	After string `json:"a"`
}

func encodeToken(op, after string) string {
	b, _ := json.Marshal(pageToken{Op: op, After: after})
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeToken returns the key a nextToken of op continues after; "" for no token.
func decodeToken(op, token string) (string, *apiError) {
	if token == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	var t pageToken
	if err != nil || json.Unmarshal(b, &t) != nil || t.Op != op || t.After == "" {
		return "", invalidParameter("Invalid parameter at 'nextToken' failed to satisfy constraint: 'Invalid NextToken'")
	}
	return t.After, nil
}

// pageSize checks maxResults against [1, limit] and returns it, or def when absent.
func pageSize(maxResults *int, def, limit int) (int, *apiError) {
	if maxResults == nil {
		return def, nil
	}
	switch n := *maxResults; {
	case n < 1:
		return 0, modelViolation("maxResults", "Member must have value greater than or equal to 1")
	case n > limit:
		return 0, modelViolation("maxResults", fmt.Sprintf("Member must have value less than or equal to %d", limit))
	default:
		return n, nil
	}
}

// listLength checks the length of a list member that must hold min to max items when given.
func listLength(member string, n int, given bool, min, max int) *apiError {
	switch {
	case !given:
		return nil
	case n < min:
		return modelViolation(member, fmt.Sprintf("Member must have length greater than or equal to %d", min))
	case n > max:
		return modelViolation(member, fmt.Sprintf("Member must have length less than or equal to %d", max))
	}
	return nil
}

// enum checks that value, when given, is one of allowed.
func enum(member, value string, allowed ...string) *apiError {
	if value == "" {
		return nil
	}
	for _, a := range allowed {
		if value == a {
			return nil
		}
	}
	return modelViolation(member, fmt.Sprintf("Member must satisfy enum value set: %v", allowed))
}

// repositoryIn decodes a request that names only a repository ({registryId,
// repositoryName}) and looks the repository up.
func (s *Server) repositoryIn(body []byte) (*repository, *apiError) {
	var in struct {
		RegistryID     string `json:"registryId"`
		RepositoryName string `json:"repositoryName"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	return s.repository(in.RegistryID, in.RepositoryName)
}

// repository finds the repository a request names, in the registry it names (the server's
// when registryID is empty). s.mu is held.
func (s *Server) repository(registryID, name string) (*repository, *apiError) {
	if name == "" {
		return nil, modelViolation("repositoryName", "Member must not be null")
	}
	if registryID != "" && !registryIDPattern.MatchString(registryID) {
		return nil, modelViolation("registryId", "Member must satisfy regular expression pattern: [0-9]{12}")
	}
	if registryID != "" && registryID != s.account {
		return nil, s.foreignRegistry(registryID, name)
	}
	r, ok := s.repos[name]
	if !ok {
		return nil, repositoryNotFound(name, s.account)
	}
	return r, nil
}

// foreignRegistry is ECR's answer to a request that names a registry other than the
// server's: the caller's identity has no grant there, and no repository policy gives it one
// (the server keeps none). ECR decides on access before it looks the repository up, so a
// repository that does not exist there is refused the same way. name is the repository the
// request names, "*" for the whole registry. s.mu is held, during a request.
func (s *Server) foreignRegistry(registryID, name string) *apiError {
	return &apiError{
		code: "AccessDeniedException",
		message: fmt.Sprintf("User: %s is not authorized to perform: ecr:%s on resource: %s because no resource-based policy allows the ecr:%s action",
			s.callerARN(s.signer), s.op, repositoryARN(registryID, name), s.op),
	}
}

func repositoryNotFound(name, registryID string) *apiError {
	return &apiError{
		code:    "RepositoryNotFoundException",
		message: fmt.Sprintf("The repository with name '%s' does not exist in the registry with id '%s'", name, registryID),
	}
}

// checkRepositoryName validates a repository name against the API model.
func checkRepositoryName(name string) *apiError {
	if len(name) < minRepositoryName || len(name) > maxRepositoryName {
		return modelViolation("repositoryName", fmt.Sprintf("Member must have length between %d and %d", minRepositoryName, maxRepositoryName))
	}
	if !repositoryNamePattern.MatchString(name) {
		return modelViolation("repositoryName", "Member must satisfy regular expression pattern: "+repositoryNamePattern.String())
	}
	return nil
}

// repositoryARN and repositoryURI name a repository of the registry account as
// DescribeRepositories does.
func repositoryARN(account, name string) string {
	return "arn:aws:ecr:" + Region + ":" + account + ":repository/" + name
}

func repositoryURI(account, name string) string {
	return account + ".dkr.ecr." + Region + ".amazonaws.com/" + name
}
