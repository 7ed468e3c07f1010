// Package progress shows how far a long operation has come, on standard error.
package progress

import (
	"io"

	"github.com/schollz/progressbar/v3"
)

// Func is told how many of total steps are done; total may change as work is found.
type Func func(done, total int)

// Bar returns a Func that draws a progress bar labelled what on w (a terminal), cleared
// when the work is done.
func Bar(w io.Writer, what string) Func {
	var bar *progressbar.ProgressBar
	return func(done, total int) {
		if bar == nil || bar.GetMax() != total {
			bar = progressbar.NewOptions(total,
				progressbar.OptionSetWriter(w),
				progressbar.OptionSetDescription(what),
				progressbar.OptionShowCount(),
				progressbar.OptionClearOnFinish(),
				progressbar.OptionThrottle(100_000_000),
			)
		}
		_ = bar.Set(done)
	}
}
