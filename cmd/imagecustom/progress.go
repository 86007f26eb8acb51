package main

import (
	"fmt"
	"io"
	"os"
	"time"
)

// progress draws a progress bar on stderr for long copies: redrawn in place
// on a terminal at most ten times a second, a plain line every ten seconds
// otherwise, nothing under --quiet.
type progress struct {
	w     io.Writer
	label string
	tty   bool
	every time.Duration
	start time.Time
	last  time.Time
	drawn bool
	now   func() time.Time // test seam
}

// newProgress returns a progress bar labelled label, or nil under --quiet.
// A nil *progress is valid and draws nothing.
func (a *app) newProgress(label string) *progress {
	if a.quiet {
		return nil
	}
	p := &progress{w: a.stderr, label: label, every: 10 * time.Second, now: time.Now}
	if f, ok := a.stderr.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.tty, p.every = true, 100*time.Millisecond
		}
	}
	p.start = p.now()
	p.last = p.start
	return p
}

// update reports done bytes out of total.
func (p *progress) update(done, total int64) {
	if p == nil {
		return
	}
	now := p.now()
	if now.Sub(p.last) < p.every && done < total {
		return
	}
	p.last = now
	p.draw(done, total, now)
}

func (p *progress) draw(done, total int64, now time.Time) {
	const width = 30
	frac := 1.0
	if total > 0 {
		frac = float64(done) / float64(total)
	}
	filled := int(frac * width)
	bar := make([]byte, width)
	for i := range bar {
		bar[i] = '.'
		if i < filled {
			bar[i] = '#'
		}
	}
	rate := ""
	if s := now.Sub(p.start).Seconds(); s > 0 {
		rate = ", " + humanBytes(int64(float64(done)/s)) + "/s"
	}
	line := fmt.Sprintf("%s [%s] %5.1f%% %s of %s%s", p.label, bar, 100*frac, humanBytes(done), humanBytes(total), rate)
	if p.tty {
		fmt.Fprintf(p.w, "\r%s\x1b[K", line)
	} else {
		fmt.Fprintln(p.w, line)
	}
	p.drawn = true
}

// finish ends the bar: a last full line on a terminal.
func (p *progress) finish() {
	if p == nil || !p.drawn || !p.tty {
		return
	}
	fmt.Fprintln(p.w)
}
