package quarantine

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
)

// ledgerFile is the ledger of a directory quarantine.
const ledgerFile = "shipshape-ledger.jsonl"

// record is one line of the ledger: exactly one of its fields is set.
type record struct {
	Put    *putRecord    `json:"put,omitempty"`
	Pruned *prunedRecord `json:"pruned,omitempty"`
}

// putRecord is a quarantined manifest: its entry, and the graph the copy holds.
type putRecord struct {
	Entry
	// Graph lists every node of the copy, each once, in topological order (each after
	// every node that points at it) with its depth: what Prune keeps for the entry.
	Graph []graphNode `json:"graph"`
}

// prunedRecord removes the entry of a key from the quarantine.
type prunedRecord struct {
	entryKey
	// At is when it was pruned.
	At time.Time `json:"at"`
}

// entryKey identifies an entry: a manifest deleted from a repository by a run. A later put
// of the same key (a resumed run quarantining again) replaces the earlier.
type entryKey struct {
	Run        string `json:"run"`
	Host       string `json:"host"`
	Repository string `json:"repository"`
	Digest     string `json:"digest"`
}

func keyOf(e Entry) entryKey {
	return entryKey{Run: e.Run, Host: e.Host, Repository: e.Repository, Digest: e.Digest}
}

// ledger appends lines to a ledger file it holds locked.
type ledger struct {
	path string

	mu     sync.Mutex
	f      *os.File
	size   int64 // bytes of whole lines in the file
	broken error // set when a write or sync failed: nothing more is written
	unlock func()
}

// openLedger opens the ledger at path, creating it if needed, locks it, and reads its
// entries, and every run it ever recorded (pruned ones too). A torn last line is cut off.
func openLedger(path string) (*ledger, []*putRecord, map[string]bool, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, nil, nil, fmt.Errorf("creating ledger directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("opening ledger: %w", err)
	}
	unlock, err := lockFile(f)
	if err != nil {
		f.Close()
		return nil, nil, nil, fmt.Errorf("ledger %s: %w", path, err)
	}
	l := &ledger{path: path, f: f, unlock: unlock}
	recs, runs, size, torn, err := readLedger(f)
	if err != nil {
		l.close()
		return nil, nil, nil, fmt.Errorf("reading ledger %s: %w", path, err)
	}
	l.size = size
	if torn {
		// The line a killed process was writing: nothing was deleted on its strength (Put
		// had not returned). Cut it off, so that the next line does not follow it.
		err := f.Truncate(size)
		if err == nil {
			err = f.Sync()
		}
		if err != nil {
			l.close()
			return nil, nil, nil, fmt.Errorf("cutting the torn last line of ledger %s: %w", path, err)
		}
	}
	return l, recs, runs, nil
}

// readLedger reads the entries of a ledger: puts in order, without pruned ones, and the
// runs of every put. size is the length of its whole lines; torn reports bytes after them.
func readLedger(r io.Reader) (recs []*putRecord, runs map[string]bool, size int64, torn bool, err error) {
	type seqRecord struct {
		seq int
		rec *putRecord
	}
	live := make(map[entryKey]seqRecord)
	runs = make(map[string]bool)
	br := bufio.NewReader(r)
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			torn = len(line) > 0
			break
		}
		if err != nil {
			return nil, nil, 0, false, err
		}
		size += int64(len(line))
		rec, err := parseRecord(line)
		if err != nil {
			return nil, nil, 0, false, fmt.Errorf("line %d: %w", n, err)
		}
		if rec.Put != nil {
			live[keyOf(rec.Put.Entry)] = seqRecord{seq: n, rec: rec.Put}
			runs[rec.Put.Run] = true
		} else {
			delete(live, rec.Pruned.entryKey)
		}
	}
	ordered := slices.SortedFunc(maps.Values(live), func(a, b seqRecord) int { return a.seq - b.seq })
	for _, r := range ordered {
		recs = append(recs, r.rec)
	}
	return recs, runs, size, torn, nil
}

// parseRecord parses one line of a ledger.
func parseRecord(line []byte) (record, error) {
	var rec record
	dec := json.NewDecoder(bytes.NewReader(line))
	if err := dec.Decode(&rec); err != nil {
		return record{}, err
	}
	if dec.More() {
		return record{}, errors.New("more than one record")
	}
	switch {
	case rec.Put != nil && rec.Pruned == nil:
		if err := validKey(keyOf(rec.Put.Entry)); err != nil {
			return record{}, err
		}
	case rec.Pruned != nil && rec.Put == nil:
		if err := validKey(rec.Pruned.entryKey); err != nil {
			return record{}, err
		}
	default:
		return record{}, errors.New("neither a put nor a prune")
	}
	return rec, nil
}

// validKey checks what every record must name.
func validKey(k entryKey) error {
	if k.Run == "" || k.Host == "" || k.Repository == "" {
		return errors.New("run, host or repository missing")
	}
	if _, err := digest.Parse(k.Digest); err != nil {
		return fmt.Errorf("digest %q: %w", k.Digest, err)
	}
	return nil
}

// withPut returns recs with rec, replacing an entry of the same key.
func withPut(recs []*putRecord, rec *putRecord) []*putRecord {
	k := keyOf(rec.Entry)
	recs = slices.DeleteFunc(recs, func(r *putRecord) bool { return keyOf(r.Entry) == k })
	return append(recs, rec)
}

// append writes recs, each as one line with one write call, and syncs them to disk. After
// a failed write the ledger is cut back to where it was, or, if that fails too, writes
// nothing more.
func (l *ledger) append(recs ...record) error {
	lines := make([][]byte, len(recs))
	for i, rec := range recs {
		line, err := json.Marshal(rec)
		if err != nil {
			return fmt.Errorf("encoding a ledger line: %w", err)
		}
		lines[i] = append(line, '\n')
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.broken != nil {
		return fmt.Errorf("ledger %s: an earlier write failed: %w", l.path, l.broken)
	}
	start := l.size
	for _, line := range lines {
		if _, err := l.f.Write(line); err != nil {
			l.size = start
			if terr := l.f.Truncate(start); terr != nil {
				l.broken = err
			}
			return fmt.Errorf("writing ledger %s: %w", l.path, err)
		}
		l.size += int64(len(line))
	}
	if err := l.f.Sync(); err != nil {
		// After a failed fsync the kernel may have dropped the lines: trust the file no
		// more.
		l.broken = err
		return fmt.Errorf("syncing ledger %s: %w", l.path, err)
	}
	return nil
}

// sync syncs the ledger to disk.
func (l *ledger) sync() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.broken != nil {
		return fmt.Errorf("ledger %s: an earlier write failed: %w", l.path, l.broken)
	}
	if err := l.f.Sync(); err != nil {
		l.broken = err
		return fmt.Errorf("syncing ledger %s: %w", l.path, err)
	}
	return nil
}

// close releases the lock and the file.
func (l *ledger) close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.unlock()
	return l.f.Close()
}
