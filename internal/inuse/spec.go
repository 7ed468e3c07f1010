package inuse

import (
	"fmt"
	"strings"
)

// Kinds of in-use source.
const (
	KindKubernetes = "kubernetes"
	KindECS        = "ecs"
	KindLambda     = "lambda"
	KindManifests  = "manifests"
)

// Spec names an in-use source as a user writes it: "kubernetes", "kubernetes:CONTEXT",
// "ecs", "ecs:CLUSTER[,CLUSTER…]", "lambda", "manifests:DIR".
type Spec struct {
	Kind string
	// Arg is the context, the clusters or the directory; "" for the defaults.
	Arg string
}

// ParseSpec parses an in-use source.
func ParseSpec(s string) (Spec, error) {
	kind, arg, _ := strings.Cut(strings.TrimSpace(s), ":")
	sp := Spec{Kind: kind, Arg: arg}
	switch kind {
	case KindKubernetes, KindECS:
	case KindLambda:
		if arg != "" {
			return Spec{}, fmt.Errorf("in-use source %q: lambda takes no argument (it lists the functions of the account and region)", s)
		}
	case KindManifests:
		if arg == "" {
			return Spec{}, fmt.Errorf("in-use source %q: want manifests:DIR", s)
		}
	default:
		return Spec{}, fmt.Errorf("in-use source %q: want kubernetes[:CONTEXT], ecs[:CLUSTER,…], lambda or manifests:DIR", s)
	}
	return sp, nil
}

func (s Spec) String() string {
	if s.Arg == "" {
		return s.Kind
	}
	return s.Kind + ":" + s.Arg
}
