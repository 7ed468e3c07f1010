package manifests

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"go.yaml.in/yaml/v3"
)

// number is an unquoted YAML number kept as written: "1.10" stays "1.10". Helm, which reads
// values as JSON numbers, renders the same value as "1.1"; see helmNumber.
type number string

// decode parses the YAML documents of data (JSON is YAML) into plain values: maps with
// string keys, slices, strings, numbers and nil. Aliases and merge keys are expanded;
// a duplicate key, a key that is not a scalar (often an unquoted "{{ … }}") or an alias
// bomb is an error naming the document (1-based, as in the stream) and the line.
func decode(data []byte) ([]any, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	budget := max(2*len(data), minNodeBudget)
	var docs []any
	for i := 1; ; i++ {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		c := converter{budget: &budget, open: map[*yaml.Node]bool{}}
		v, err := c.plain(&n)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		docs = append(docs, v)
	}
}

// converter turns yaml.Nodes into plain values. budget counts the nodes left for the whole
// file, aliases counted once per use; open holds the nodes being converted, so that an
// alias to its own ancestor is an error, not a loop.
type converter struct {
	budget *int
	open   map[*yaml.Node]bool
}

func (c converter) plain(n *yaml.Node) (any, error) {
	if *c.budget--; *c.budget < 0 {
		return nil, errors.New("too many YAML nodes once aliases are expanded (an alias bomb?)")
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return c.plain(n.Content[0])
	case yaml.AliasNode:
		if c.open[n.Alias] {
			return nil, fmt.Errorf("line %d: alias *%s refers to a node that holds it", n.Line, n.Value)
		}
		c.open[n.Alias] = true
		defer delete(c.open, n.Alias)
		return c.plain(n.Alias)
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for _, e := range n.Content {
			v, err := c.plain(e)
			if err != nil {
				return nil, err
			}
			s = append(s, v)
		}
		return s, nil
	case yaml.MappingNode:
		return c.mapping(n)
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return nil, nil
		case "!!int", "!!float":
			return number(n.Value), nil
		}
		return n.Value, nil
	}
	return nil, fmt.Errorf("line %d: unexpected YAML node", n.Line)
}

// mapping converts a mapping. Explicit keys win over merged ones ("<<: *base"), and of
// several merged mappings the first that has a key gives it, as YAML's merge key says.
func (c converter) mapping(n *yaml.Node) (map[string]any, error) {
	m := make(map[string]any, len(n.Content)/2)
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("line %d: a mapping key that is not a string (an unquoted template?)", k.Line)
		}
		if k.ShortTag() == "!!merge" {
			merges = append(merges, v)
			continue
		}
		if _, dup := m[k.Value]; dup {
			return nil, fmt.Errorf("line %d: key %q defined twice", k.Line, k.Value)
		}
		pv, err := c.plain(v)
		if err != nil {
			return nil, err
		}
		m[k.Value] = pv
	}
	for _, v := range merges {
		src, err := c.plain(v)
		if err != nil {
			return nil, err
		}
		list, ok := src.([]any)
		if !ok {
			list = []any{src}
		}
		for _, e := range list {
			em, ok := e.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("line %d: a merge key (<<) takes mappings", v.Line)
			}
			for k, ev := range em {
				if _, set := m[k]; !set {
					m[k] = ev
				}
			}
		}
	}
	return m, nil
}
