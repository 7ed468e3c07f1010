package pins

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// maxQuoted bounds how much of an error response an error message quotes.
const maxQuoted = 200

// pinKeys are the keys of a pin object: the JSON fields of Pin, which "shipshape pin list
// -o json" and GET /v1/pins write.
var pinKeys = []string{"name", "repository", "digest", "sourceSha", "verification", "verificationReason", "updatedAt", "updatedBy", "version"}

// DecodeList decodes a list of pins in either form shipshape writes one: the object
// {"pins": [...]} that "shipshape pin list -o json" prints and GET /v1/pins answers, or a
// bare JSON array of pins. An empty list is valid.
//
// Decoding is strict, since a list read wrong would protect nothing: keys must be spelt
// exactly as Pin's JSON fields, unknown or repeated keys are errors, every pin needs a name
// and a digest and must pass [Pin.Validate], and nothing may follow the JSON value. An
// error response ({"error": {"code": …, "message": …}}) is an error that quotes it.
func DecodeList(data []byte) ([]Pin, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, errors.New("empty: no JSON value")
	}
	var (
		items []json.RawMessage
		path  string
		err   error
	)
	switch data[0] {
	case '[':
		if err := decodeOne(data, &items); err != nil {
			return nil, err
		}
	case '{':
		if items, err = decodeWrapped(data); err != nil {
			return nil, err
		}
		path = "pins"
	default:
		return nil, errors.New("not a JSON object or array")
	}
	list := make([]Pin, 0, len(items))
	for i, raw := range items {
		p, err := decodePin(raw)
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", path, i, err)
		}
		list = append(list, p)
	}
	return list, nil
}

// decodeWrapped returns the items of {"pins": [...]}, or the error an error response
// describes.
func decodeWrapped(data []byte) ([]json.RawMessage, error) {
	keys, obj, err := decodeObject(data)
	if err != nil {
		return nil, err
	}
	if e, ok := obj["error"]; ok {
		return nil, errorResponse(e)
	}
	for _, k := range keys {
		if k != "pins" {
			return nil, fmt.Errorf("unknown key %q", k)
		}
	}
	raw, ok := obj["pins"]
	if !ok {
		return nil, errors.New(`no "pins" key`)
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil || items == nil {
		return nil, fmt.Errorf(`"pins" is %s, want an array`, kind(raw))
	}
	return items, nil
}

// errorResponse describes the body of an error response.
func errorResponse(raw json.RawMessage) error {
	var e struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	var s string
	var detail string
	switch {
	case json.Unmarshal(raw, &e) == nil && (e.Code != "" || e.Message != ""):
		detail = strings.Trim(e.Code+": "+e.Message, ": ")
	case json.Unmarshal(raw, &s) == nil:
		detail = s
	default:
		detail = string(raw)
	}
	if len(detail) > maxQuoted {
		detail = strings.ToValidUTF8(detail[:maxQuoted], "") + "…"
	}
	return fmt.Errorf("the source returned an error response, not pins: %s", detail)
}

// decodePin decodes one pin object strictly.
func decodePin(raw json.RawMessage) (Pin, error) {
	keys, obj, err := decodeObject(raw)
	if err != nil {
		return Pin{}, fmt.Errorf("%w, want a pin object", err)
	}
	for _, k := range keys {
		if !slices.Contains(pinKeys, k) {
			return Pin{}, fmt.Errorf("unknown key %q (a pin has %s)", k, strings.Join(pinKeys, ", "))
		}
	}
	for _, k := range []string{"name", "digest"} {
		if _, ok := obj[k]; !ok {
			return Pin{}, fmt.Errorf("no %q", k)
		}
	}
	var p Pin
	if err := json.Unmarshal(raw, &p); err != nil {
		return Pin{}, jsonError(raw, err)
	}
	if err := p.Validate(); err != nil {
		return Pin{}, err
	}
	return p, nil
}

// decodeObject returns the keys of the JSON object data, exactly as spelt and in order,
// and its members by key; a repeated key is an error.
func decodeObject(data []byte) ([]string, map[string]json.RawMessage, error) {
	if err := decodeOne(data, new(json.RawMessage)); err != nil {
		return nil, nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, nil, fmt.Errorf("%s, not an object", kind(data))
	}
	var keys []string
	obj := map[string]json.RawMessage{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, nil, jsonError(data, err)
		}
		k, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, jsonError(data, err)
		}
		if _, dup := obj[k]; dup {
			return nil, nil, fmt.Errorf("key %q appears twice", k)
		}
		keys = append(keys, k)
		obj[k] = v
	}
	return keys, obj, nil
}

// decodeOne decodes data, one JSON value and nothing after it, into v.
func decodeOne(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return jsonError(data, err)
	}
	end := dec.InputOffset()
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		for end < int64(len(data)) && strings.IndexByte(" \t\r\n", data[end]) >= 0 {
			end++
		}
		line, col := position(data, end)
		return fmt.Errorf("line %d, column %d: data after the JSON value", line, col)
	}
	return nil
}

// jsonError describes an error of encoding/json decoding data: where the syntax breaks,
// or which field has a value of the wrong type.
func jsonError(data []byte, err error) error {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syn):
		line, col := position(data, syn.Offset-1) // Offset counts the bad byte
		return fmt.Errorf("line %d, column %d: invalid JSON: %s", line, col, syn.Error())
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return errors.New("invalid JSON: unexpected end")
	case errors.As(err, &typ) && typ.Field != "":
		return fmt.Errorf("%q: %s, want %s", typ.Field, typ.Value, typ.Type)
	}
	return errors.New(strings.TrimPrefix(err.Error(), "json: "))
}

// position returns the 1-based line and column of the byte at offset off in data.
func position(data []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	line = 1 + bytes.Count(before, []byte("\n"))
	return line, int(off) - bytes.LastIndexByte(before, '\n')
}

// kind names the kind of the JSON value raw, for errors.
func kind(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "empty"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 'n':
		return "null"
	case 't', 'f':
		return "a boolean"
	}
	return "a number"
}
