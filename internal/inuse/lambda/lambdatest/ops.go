package lambdatest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Page sizes of the list operations, as Lambda documents them.
const (
	defaultMaxItems   = 50
	maxItemsLimit     = 10000
	listFunctionsPage = 50 // ListFunctions' most entries a call, whatever MaxItems says
)

// marker is what a NextMarker carries: its operation and the key the next page starts
// after.
type marker struct {
	Op    string `json:"o"`
	After string `json:"a"`
}

// page returns the page of the sorted keys that the Marker and MaxItems parameters of q
// select, at most limit long, and the marker of the next page, if any.
func page(op string, keys []string, q url.Values, limit int) ([]string, string, *apiError) {
	n := defaultMaxItems
	if m := q.Get("MaxItems"); m != "" {
		v, err := strconv.Atoi(m)
		if err != nil || v < 1 || v > maxItemsLimit {
			return nil, "", invalidParameter("MaxItems must be between 1 and %d", maxItemsLimit)
		}
		n = v
	}
	n = min(n, limit)
	start := 0
	if m := q.Get("Marker"); m != "" {
		b, err := base64.RawURLEncoding.DecodeString(m)
		var mk marker
		if err != nil || json.Unmarshal(b, &mk) != nil || mk.Op != op || mk.After == "" {
			return nil, "", invalidParameter("Invalid Marker")
		}
		start, _ = slices.BinarySearch(keys, mk.After+"\x00")
	}
	end := min(start+n, len(keys))
	next := ""
	if end < len(keys) {
		b, _ := json.Marshal(marker{Op: op, After: keys[end-1]})
		next = base64.RawURLEncoding.EncodeToString(b)
	}
	return keys[start:end], next, nil
}

func invalidParameter(format string, args ...any) *apiError {
	return &apiError{code: "InvalidParameterValueException", message: fmt.Sprintf(format, args...)}
}

// only refuses the query parameters q has beyond those allowed: the server does not
// implement them, and a test must not pass on a parameter ignored.
func only(q url.Values, allowed ...string) *apiError {
	for k := range q {
		if !slices.Contains(allowed, k) {
			return invalidParameter("lambdatest does not implement the parameter %s", k)
		}
	}
	return nil
}

// parseFunction splits a function identifier as paths carry it — a name, "NAME:QUALIFIER",
// or a full or partial ARN with or without qualifier — into name and qualifier.
func parseFunction(id string) (name, qualifier string) {
	if _, rest, ok := strings.Cut(id, ":function:"); ok {
		id = rest
	}
	name, qualifier, _ = strings.Cut(id, ":")
	return name, qualifier
}

// functionName returns the name a function identifier gives.
func functionName(id string) string {
	name, _ := parseFunction(id)
	return name
}

type functionConfiguration struct {
	FunctionName string `json:"FunctionName"`
	FunctionArn  string `json:"FunctionArn"`
	Version      string `json:"Version"`
	PackageType  string `json:"PackageType"`
	Runtime      string `json:"Runtime,omitempty"`
	Handler      string `json:"Handler,omitempty"`
	State        string `json:"State,omitempty"`
}

// configuration describes a version of f, as ListFunctions lists it.
func (f *function) configuration(version string) functionConfiguration {
	c := functionConfiguration{FunctionName: f.name, FunctionArn: FunctionARN(f.name), Version: version, PackageType: "Image"}
	if version != Latest {
		c.FunctionArn += ":" + version
	}
	if !f.image {
		c.PackageType, c.Runtime, c.Handler = "Zip", "python3.13", "app.handler"
	}
	return c
}

// versionKey orders a function's versions: $LATEST, then by number.
func versionKey(name, version string) string {
	n := 0
	if version != Latest {
		n, _ = strconv.Atoi(version)
	}
	return fmt.Sprintf("%s\x00%010d", name, n)
}

func (s *Server) listFunctions(q url.Values) (any, *apiError) {
	if err := only(q, "FunctionVersion", "Marker", "MaxItems"); err != nil {
		return nil, err
	}
	all := false
	switch v := q.Get("FunctionVersion"); v {
	case "":
	case "ALL":
		all = true
	default:
		return nil, invalidParameter("FunctionVersion must be ALL, not %q", v)
	}
	entries := make(map[string]functionConfiguration)
	for _, f := range s.functions {
		for v := range f.versions {
			if v == Latest || all {
				entries[versionKey(f.name, v)] = f.configuration(v)
			}
		}
	}
	keys := slices.Sorted(maps.Keys(entries))
	p, next, err := page("ListFunctions", keys, q, listFunctionsPage)
	if err != nil {
		return nil, err
	}
	out := struct {
		Functions  []functionConfiguration `json:"Functions"`
		NextMarker string                  `json:"NextMarker,omitempty"`
	}{Functions: []functionConfiguration{}, NextMarker: next}
	for _, k := range p {
		out.Functions = append(out.Functions, entries[k])
	}
	return out, nil
}

func (s *Server) getFunction(id string, q url.Values) (any, *apiError) {
	if err := only(q, "Qualifier"); err != nil {
		return nil, err
	}
	name, qualifier := parseFunction(id)
	if qq := q.Get("Qualifier"); qq != "" {
		if qualifier != "" && qualifier != qq {
			return nil, invalidParameter("The derived qualifier from the function name does not match the specified qualifier.")
		}
		qualifier = qq
	}
	f, ok := s.functions[name]
	if !ok {
		return nil, &apiError{code: "ResourceNotFoundException", message: "Function not found: " + FunctionARN(name)}
	}
	if qualifier == "" {
		qualifier = Latest
	}
	version := qualifier
	if a, ok := f.aliases[qualifier]; ok {
		version = a.version
	}
	code, ok := f.versions[version]
	if !ok {
		return nil, &apiError{code: "ResourceNotFoundException", message: "Function not found: " + FunctionARN(name) + ":" + qualifier}
	}
	type location struct {
		RepositoryType   string `json:"RepositoryType"`
		Location         string `json:"Location,omitempty"`
		ImageURI         string `json:"ImageUri,omitempty"`
		ResolvedImageURI string `json:"ResolvedImageUri,omitempty"`
	}
	out := struct {
		Configuration functionConfiguration `json:"Configuration"`
		Code          location              `json:"Code"`
	}{Configuration: f.configuration(version)}
	out.Configuration.State = "Active"
	if f.image {
		out.Code = location{RepositoryType: "ECR", ImageURI: code.ImageURI, ResolvedImageURI: code.ResolvedImageURI}
	} else {
		out.Code = location{RepositoryType: "S3", Location: "https://awslambda-" + Region + "-tasks.s3." + Region + ".amazonaws.com/snapshots/" + Account + "/" + name + "-" + version}
	}
	return out, nil
}

type aliasConfiguration struct {
	AliasArn        string         `json:"AliasArn"`
	Name            string         `json:"Name"`
	FunctionVersion string         `json:"FunctionVersion"`
	RoutingConfig   *routingConfig `json:"RoutingConfig,omitempty"`
}

type routingConfig struct {
	AdditionalVersionWeights map[string]float64 `json:"AdditionalVersionWeights"`
}

func (s *Server) listAliases(id string, q url.Values) (any, *apiError) {
	if err := only(q, "FunctionVersion", "Marker", "MaxItems"); err != nil {
		return nil, err
	}
	name, _ := parseFunction(id)
	f, ok := s.functions[name]
	if !ok {
		return nil, &apiError{code: "ResourceNotFoundException", message: "Function not found: " + FunctionARN(name)}
	}
	var names []string
	for n, a := range f.aliases {
		if v := q.Get("FunctionVersion"); v == "" || v == a.version {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	p, next, err := page("ListAliases", names, q, maxItemsLimit)
	if err != nil {
		return nil, err
	}
	out := struct {
		Aliases    []aliasConfiguration `json:"Aliases"`
		NextMarker string               `json:"NextMarker,omitempty"`
	}{Aliases: []aliasConfiguration{}, NextMarker: next}
	for _, n := range p {
		a := f.aliases[n]
		ac := aliasConfiguration{AliasArn: FunctionARN(name) + ":" + n, Name: n, FunctionVersion: a.version}
		if len(a.weights) > 0 {
			ac.RoutingConfig = &routingConfig{AdditionalVersionWeights: a.weights}
		}
		out.Aliases = append(out.Aliases, ac)
	}
	return out, nil
}
