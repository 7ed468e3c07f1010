package apply

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// journalKind and journalVersion identify a journal file.
const (
	journalKind    = "shipshape.journal"
	journalVersion = 2
)

// header is the first line of a journal: the run's binding (host, repository, plan) and
// what it set out to do.
type header struct {
	Kind    string `json:"kind"`
	Version int    `json:"version"`
	// Host and Repository name the repository the run deletes from; a journal never acts
	// on another.
	Host       string `json:"host"`
	Repository string `json:"repository"`
	// PlanDigest identifies the plan the run carries out: only the same plan resumes it.
	PlanDigest string `json:"planDigest"`
	// Run names the run in the deletion log and the quarantine; a resumed run keeps it.
	// Journals written before runs had names have none: RunOf names them by their start.
	Run     string    `json:"run,omitempty"`
	Started time.Time `json:"started"`
	// Targets are the digests to delete, in order.
	Targets []target `json:"targets"`
	// KnownTags are the tags the plan saw, each with its digest: a tag that points
	// elsewhere now was pushed or moved since the plan.
	KnownTags map[string]string `json:"knownTags"`
	// KeptIndexes lists, for every index the plan keeps, its children: after the run each
	// must still be there.
	KeptIndexes map[string][]string `json:"keptIndexes"`
}

// target is one deletion the plan asks for.
type target struct {
	Digest string `json:"digest"`
	// Wave orders deletions: an index goes before its children, a subject before its
	// referrers.
	Wave int      `json:"wave"`
	Tags []string `json:"tags,omitempty"`
	// Rule and Reason say why the plan removes it.
	Rule   int    `json:"rule,omitempty"`
	Reason string `json:"reason,omitempty"`
	// After lists the targets that must be gone before this one: the planned indexes that
	// list it, its planned subject. If one of them stays, so does this one.
	After []string `json:"after,omitempty"`
	// Archive marks a transition to archive storage rather than a deletion.
	Archive bool `json:"archive,omitempty"`
	// Bytes is the image's size as the plan counted it.
	Bytes int64 `json:"bytes,omitempty"`
}

// entry is every later line: the outcome of one target, or the end of the run.
type entry struct {
	Digest  string  `json:"digest,omitempty"`
	Outcome Outcome `json:"outcome,omitempty"`
	Reason  string  `json:"reason,omitempty"`
	Done    bool    `json:"done,omitempty"`
	// Quarantine is where a copy of a deleted manifest was kept before it was deleted.
	Quarantine string    `json:"quarantine,omitempty"`
	At         time.Time `json:"at"`
}

// journal appends to a journal file and to the run's log (see Options.RunsDir): the same
// lines in both. Every line is written with one write call, so a killed process leaves
// whole lines behind; lines are synced to disk at the end of each batch.
type journal struct {
	mu    sync.Mutex
	files []*os.File
}

// createJournal starts the journal at path and the run log at logPath with h; either path
// may be "" for none.
func createJournal(path, logPath string, h *header) (*journal, error) {
	j := &journal{}
	for _, p := range []string{path, logPath} {
		if p == "" {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			j.close()
			return nil, fmt.Errorf("creating journal: %w", err)
		}
		f, err := os.OpenFile(p, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
		if err != nil {
			j.close()
			return nil, fmt.Errorf("creating journal: %w", err)
		}
		j.files = append(j.files, f)
	}
	if err := j.write(h); err != nil {
		j.close()
		return nil, err
	}
	return j, j.sync()
}

// reopenJournal appends to the journal at path, and to the run log at logPath ("": none),
// which it starts as a copy of the journal when there is none (a run begun by a shipshape
// that kept no log).
func reopenJournal(path, logPath string) (*journal, error) {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("opening journal: %w", err)
	}
	j := &journal{files: []*os.File{f}}
	if logPath == "" {
		return j, nil
	}
	if err := keepLog(path, logPath); err != nil {
		j.close()
		return nil, err
	}
	lf, err := os.OpenFile(logPath, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		j.close()
		return nil, fmt.Errorf("opening the run log: %w", err)
	}
	j.files = append(j.files, lf)
	return j, nil
}

func (j *journal) write(v any) error {
	if j == nil {
		return nil
	}
	line, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("writing journal: %w", err)
	}
	line = append(line, '\n')
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, f := range j.files {
		if _, err := f.Write(line); err != nil {
			return fmt.Errorf("writing journal %s: %w", f.Name(), err)
		}
	}
	return nil
}

func (j *journal) sync() error {
	if j == nil {
		return nil
	}
	for _, f := range j.files {
		if err := f.Sync(); err != nil {
			return fmt.Errorf("syncing journal %s: %w", f.Name(), err)
		}
	}
	return nil
}

func (j *journal) close() error {
	if j == nil {
		return nil
	}
	var first error
	for _, f := range j.files {
		if err := f.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// State is what a journal file says about a run.
type State struct {
	// Run names the run (RunOf).
	Run        string
	Host       string
	Repository string
	PlanDigest string
	Started    time.Time
	Targets    int
	// Finished counts targets with a final outcome (deleted, archived or already gone).
	Finished int
	// Done reports whether the run completed.
	Done bool

	h        *header
	finished map[string]bool
	// entries are the lines after the header, in order.
	entries []entry
}

// ErrNoJournal is returned by ReadJournal when there is no journal at the path.
var ErrNoJournal = errors.New("no journal")

// ErrNotJournal is returned by ReadJournal for a file that is not a shipshape journal: it is
// never overwritten, appended to or discarded.
var ErrNotJournal = errors.New("not a shipshape journal")

// ErrBusy is returned when another process is running an apply with the same journal.
var ErrBusy = errors.New("another apply is using the journal")

// ReadJournal reads the journal at path. A torn last line (the process was killed while
// writing it) is ignored.
func ReadJournal(path string) (*State, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNoJournal
	}
	if err != nil {
		return nil, fmt.Errorf("reading journal: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), maxJournalLine)
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("reading journal %s: %w", path, err)
		}
		return nil, fmt.Errorf("%s: %w (it is empty)", path, ErrNotJournal)
	}
	h := &header{}
	if err := json.Unmarshal(sc.Bytes(), h); err != nil || h.Kind != journalKind {
		return nil, fmt.Errorf("%s: %w", path, ErrNotJournal)
	}
	if h.Version != journalVersion {
		return nil, fmt.Errorf("journal %s has version %d; this shipshape reads version %d (discard it with apply --abandon)", path, h.Version, journalVersion)
	}
	if h.Host == "" || h.Repository == "" || h.PlanDigest == "" {
		return nil, fmt.Errorf("journal %s names no host, repository or plan (discard it with apply --abandon)", path)
	}
	s := &State{Run: runOf(h), Host: h.Host, Repository: h.Repository, PlanDigest: h.PlanDigest, Started: h.Started, Targets: len(h.Targets), h: h, finished: map[string]bool{}}
	for sc.Scan() {
		var e entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			break // a torn last line
		}
		s.entries = append(s.entries, e)
		switch {
		case e.Done:
			s.Done = true
		case e.Outcome == Deleted || e.Outcome == Gone || e.Outcome == Archived:
			s.finished[e.Digest] = true
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading journal %s: %w", path, err)
	}
	s.Finished = len(s.finished)
	return s, nil
}

// Ref is the repository the journal is for, as an image reference without tag.
func (s *State) Ref() string { return s.Host + "/" + s.Repository }

// Remaining lists the targets without a final outcome, in the order the run takes them,
// each with its tags.
func (s *State) Remaining() []Record {
	var out []Record
	for _, t := range s.h.Targets {
		if !s.finished[t.Digest] {
			out = append(out, Record{Digest: t.Digest, Tags: t.Tags, RulePriority: t.Rule, Reason: t.Reason})
		}
	}
	return out
}

// ErrOtherRepository is returned when a journal belongs to another repository than the
// one a run is for.
var ErrOtherRepository = errors.New("the journal belongs to another repository")

// Check returns an error wrapping ErrOtherRepository, naming both, unless the journal is for
// repo on host.
func (s *State) Check(host, repo string) error {
	if s.Host == host && s.Repository == repo {
		return nil
	}
	return fmt.Errorf("%w: it records an apply on %s, not %s; give another --journal, or discard it with apply --abandon %s",
		ErrOtherRepository, s.Ref(), host+"/"+repo, s.Ref())
}

// Abandon discards the journal at path. It returns ErrNoJournal when there is none,
// ErrNotJournal for a file that is not a journal, and ErrBusy while an apply uses it.
func Abandon(path string) error {
	if _, err := ReadJournal(path); errors.Is(err, ErrNoJournal) || errors.Is(err, ErrNotJournal) {
		return err
	}
	unlock, err := lock(path)
	if err != nil {
		return err
	}
	defer unlock()
	err = os.Remove(path)
	if errors.Is(err, fs.ErrNotExist) {
		return ErrNoJournal
	}
	if err != nil {
		return fmt.Errorf("discarding the journal: %w", err)
	}
	return nil
}

// maxJournalLine bounds one journal line: the header lists every target of a plan, and
// 100,000 targets (ECR's image cap per repository) take about 15 MB.
const maxJournalLine = 64 << 20
