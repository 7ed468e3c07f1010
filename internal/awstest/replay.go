package awstest

import "net/http"

// invocationHeader carries the ID the SDK gives one operation call; every attempt of the
// call (its retries) sends the same ID.
const invocationHeader = "Amz-Sdk-Invocation-Id"

// replayDepth is how many answers Replays keeps: a re-send follows the lost answer within
// the same call, so the latest few suffice.
const replayDepth = 256

// Replays remembers a server's latest successful answers by the SDK's invocation ID.
//
// The SDK retries a call whose successful answer was lost in transit: it reads "use of
// closed network connection" while decoding a 200 answer, a race inside net/http under
// load (aws/aws-sdk-go-v2#2737) that a real service meets too. The re-sent request is the
// transport's, not the caller's. A server answers it from Replays, without counting it
// as a call and without running the operation twice, so that tests can count calls
// exactly. Retries after an error answer (an injected throttle, a 500) carry an ID with
// no stored answer, and are counted and served as new attempts.
//
// The zero value is ready to use; the caller serializes access.
type Replays struct {
	answers map[string][]byte
	order   []string
}

// Lookup returns the answer already given to r's invocation, if any.
func (p *Replays) Lookup(r *http.Request) ([]byte, bool) {
	id := r.Header.Get(invocationHeader)
	if id == "" {
		return nil, false
	}
	b, ok := p.answers[id]
	return b, ok
}

// Store records body as the successful answer to r's invocation.
func (p *Replays) Store(r *http.Request, body []byte) {
	id := r.Header.Get(invocationHeader)
	if id == "" {
		return
	}
	if p.answers == nil {
		p.answers = make(map[string][]byte)
	}
	if _, ok := p.answers[id]; !ok {
		p.order = append(p.order, id)
	}
	p.answers[id] = body
	if len(p.order) > replayDepth {
		delete(p.answers, p.order[0])
		p.order = p.order[1:]
	}
}
