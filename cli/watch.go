package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/nvlint/nvlint/checks"
	"github.com/nvlint/nvlint/forecast"
	"github.com/nvlint/nvlint/redact"
	"github.com/nvlint/nvlint/reports"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/watch"
	"github.com/nvlint/nvlint/world"
)

// runWatch is doctor --watch: a doctor run every --interval, each as
// read-only and as bounded as a single one, with the latest results
// served as Prometheus metrics until stopped.
func runWatch(f *doctorFlags, env Env) int {
	stderr := &lockedWriter{w: env.Stderr}
	w, code := newWatcher(f, env, stderr)
	if w == nil {
		return code
	}
	ctx := env.Context
	if ctx == nil {
		var stop context.CancelFunc
		ctx, stop = signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
	}
	err := w.Serve(ctx, f.listen, func(a net.Addr) {
		fmt.Fprintf(stderr, "nvlint doctor --watch: serving metrics on http://%s/metrics, a run every %s\n", a, f.interval)
	})
	if err != nil {
		return usageError(env, fmt.Errorf("--listen %s: %w", f.listen, err))
	}
	return ExitOK
}

// newWatcher checks the flags and builds the watcher whose runs are
// doctor runs; nil and the exit code on a usage error.
func newWatcher(f *doctorFlags, env Env, log io.Writer) (*watch.Watcher, int) {
	rf := &f.rf
	for flag, set := range map[string]bool{
		"--from": f.from != "", "--save": f.save != "", "--format": len(rf.formats) > 0,
		"--baseline": rf.baseline.use != "", "--write-baseline": rf.baseline.write != "",
	} {
		if set {
			return nil, usageError(env, fmt.Errorf("--watch reads the live clusters and reports as metrics: %s does not go with it", flag))
		}
	}
	if f.interval <= 0 {
		return nil, usageError(env, errors.New("--interval must be positive"))
	}
	if f.logFormat != "text" && f.logFormat != "json" {
		return nil, usageError(env, fmt.Errorf("--log-format %q: say text or json", f.logFormat))
	}
	catalog := checks.All()
	cfg, err := loadConfig(env, rf.config, nil, catalog, rf.verbose)
	if err != nil {
		return nil, usageError(env, err)
	}
	src, err := liveSource(f)
	if err != nil {
		return nil, usageError(env, err)
	}
	region := ""
	if src.o.Nomad != nil {
		region = src.o.Nomad.Region
	}
	return watch.New(watch.Options{
		Interval: f.interval, Log: log, JSON: f.logFormat == "json", Region: region,
		Run: func(ctx context.Context) (watch.Outcome, error) {
			wd, secrets := src.collect(ctx)
			// Each run's rules are bounded as a single run's, and the
			// limit stays for the next run's collection, of a world about
			// this size: a long watch peaks where one run does.
			boundHeap()
			cfg.Apply(wd)
			res := rules.RunWith(wd, catalog, settings(cfg))
			return outcomeOf(wd, res.Findings, reports.Verdicts(wd, res.Findings), secrets), nil
		},
	}), ExitOK
}

// outcomeOf is what the metrics and the log need of a run, redacted.
func outcomeOf(w *world.World, fs []rules.Finding, vs []reports.Verdict, secrets *redact.Secrets) watch.Outcome {
	out := watch.Outcome{At: forecast.Now(w), Expiries: forecast.All(w)}
	if w.Live != nil && w.Live.Nomad != nil {
		out.Region = w.Live.Nomad.Region
	}
	for _, f := range fs {
		object := string(f.Object.Kind) + " " + f.Object.Name
		if f.Range.Filename != "" {
			object += fmt.Sprintf(" %s:%d", f.Range.Filename, f.Range.Start.Line)
		}
		out.Findings = append(out.Findings, watch.Finding{
			Rule: f.Rule.ID, Severity: f.Severity.String(), Object: secrets.String(object), Message: secrets.String(f.Message),
		})
	}
	for _, v := range vs {
		out.Areas = append(out.Areas, watch.Area{Name: v.Area, Status: v.Status, Asked: v.Asked})
	}
	return out
}

// lockedWriter serialises the writes of the watch loop and the server.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
