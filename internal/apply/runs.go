package apply

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// NewRunID returns a new run ID: the UTC time the run starts and four random hex digits
// ("20261130T041502Z-3f9a"), so that IDs sort by time and two runs started in the same
// second still differ.
func NewRunID(now time.Time) string {
	var b [2]byte
	_, _ = rand.Read(b[:])
	return now.UTC().Format(runTimeLayout) + "-" + hex.EncodeToString(b[:])
}

const runTimeLayout = "20060102T150405Z"

// runOf names the run a journal records: its ID, or for a journal written before runs had
// IDs, one made from its start ("20261130T041502Z-0000").
func runOf(h *header) string {
	if h.Run != "" {
		return h.Run
	}
	return h.Started.UTC().Format(runTimeLayout) + "-0000"
}

// LoggedRun is one apply run as the deletion log shows it: what it set out to remove and what
// came of each target.
type LoggedRun struct {
	ID         string    `json:"run"`
	Host       string    `json:"host"`
	Repository string    `json:"repository"`
	PlanDigest string    `json:"planDigest"`
	Started    time.Time `json:"started"`
	// Last is the time of the run's last recorded outcome (Started when it has none).
	Last time.Time `json:"last"`
	// Done reports that the run finished; an unfinished run was interrupted, and may
	// still be resumed.
	Done    bool `json:"done"`
	Targets int  `json:"targets"`
	// Deleted, Gone, Archived, Skipped and Failed count the targets' last outcomes.
	Deleted  int `json:"deleted"`
	Gone     int `json:"gone"`
	Archived int `json:"archived"`
	Skipped  int `json:"skipped"`
	Failed   int `json:"failed"`
	// Bytes sums the sizes of the images removed (deleted or found gone).
	Bytes int64 `json:"bytes"`
	// Quarantines lists where copies of what the run deleted were kept, each once.
	Quarantines []string `json:"quarantines"`
	// Removed lists every manifest the run deleted or found already gone, in the order
	// they were recorded.
	Removed []Removed `json:"removed"`
	// File is the log file the run was read from.
	File string `json:"file"`
}

// Removed is one manifest a run removed.
type Removed struct {
	Digest  string    `json:"digest"`
	Tags    []string  `json:"tags"`
	Outcome Outcome   `json:"outcome"`
	Rule    int       `json:"rulePriority,omitempty"`
	Reason  string    `json:"reason,omitempty"`
	Bytes   int64     `json:"bytes"`
	At      time.Time `json:"at"`
	// Quarantine is where a copy was kept before the deletion; "" when none was.
	Quarantine string `json:"quarantine,omitempty"`
}

// ReadRun reads the run recorded in the journal or log file at path.
func ReadRun(path string) (*LoggedRun, error) {
	st, err := ReadJournal(path)
	if err != nil {
		return nil, err
	}
	return st.run(path), nil
}

// run turns what a journal says into a LoggedRun: the last outcome of each target counts.
func (s *State) run(path string) *LoggedRun {
	r := &LoggedRun{ID: s.Run, Host: s.Host, Repository: s.Repository, PlanDigest: s.PlanDigest, Started: s.Started,
		Last: s.Started, Done: s.Done, Targets: s.Targets, Quarantines: []string{}, Removed: []Removed{}, File: path}
	targets := make(map[string]*target, len(s.h.Targets))
	for i := range s.h.Targets {
		targets[s.h.Targets[i].Digest] = &s.h.Targets[i]
	}
	last := map[string]entry{}
	var order []string
	for _, e := range s.entries {
		if e.At.After(r.Last) {
			r.Last = e.At
		}
		if e.Digest == "" {
			continue
		}
		if _, seen := last[e.Digest]; !seen {
			order = append(order, e.Digest)
		}
		last[e.Digest] = e
	}
	for _, d := range order {
		e := last[d]
		switch e.Outcome {
		case Deleted:
			r.Deleted++
		case Gone:
			r.Gone++
		case Archived:
			r.Archived++
		case Skipped:
			r.Skipped++
		case Failed:
			r.Failed++
		}
		if e.Outcome != Deleted && e.Outcome != Gone {
			continue
		}
		rm := Removed{Digest: d, Tags: []string{}, Outcome: e.Outcome, At: e.At, Quarantine: e.Quarantine}
		if t := targets[d]; t != nil {
			rm.Rule, rm.Reason, rm.Bytes = t.Rule, t.Reason, t.Bytes
			if t.Tags != nil {
				rm.Tags = t.Tags
			}
		}
		r.Bytes += rm.Bytes
		if e.Quarantine != "" && !slices.Contains(r.Quarantines, e.Quarantine) {
			r.Quarantines = append(r.Quarantines, e.Quarantine)
		}
		r.Removed = append(r.Removed, rm)
	}
	return r
}

// ReadRuns reads every run logged under root (RunsDir's layout: HOST/REPO/RUN.jsonl),
// oldest first. A file that is not a run log, or that cannot be read, is an error naming
// it: a log that cannot be read completely is never shown as shorter than it is.
func ReadRuns(root string) ([]*LoggedRun, error) {
	var runs []*LoggedRun
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && path == root {
				return fs.SkipAll
			}
			return err
		}
		if d.IsDir() || !strings.HasSuffix(path, ".jsonl") {
			return nil
		}
		r, err := ReadRun(path)
		if err != nil {
			return fmt.Errorf("reading the run log %s: %w", path, err)
		}
		runs = append(runs, r)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the deletion log: %w", err)
	}
	slices.SortFunc(runs, func(a, b *LoggedRun) int {
		if c := a.Started.Compare(b.Started); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return runs, nil
}

// keepLog copies the journal at path to logPath unless a log is there already.
func keepLog(path, logPath string) error {
	if _, err := os.Stat(logPath); err == nil {
		return nil
	}
	data, err := os.ReadFile(path)
	if err == nil {
		err = os.MkdirAll(filepath.Dir(logPath), 0o755)
	}
	if err == nil {
		err = os.WriteFile(logPath, data, 0o644)
	}
	if err != nil {
		return fmt.Errorf("keeping the log of the run the journal %s records: %w", path, err)
	}
	return nil
}
