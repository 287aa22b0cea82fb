package settings

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// ApplyFunc puts a whole new set of settings into effect. It returns an error,
// and changes nothing, when it cannot; the error must not quote a value.
type ApplyFunc func(ctx context.Context, values map[string]string) error

// State is what a Watcher has achieved.
type State struct {
	// Version of the settings in effect; empty until a set was applied.
	Version string
	// Error says why the last read or apply failed (the settings of Version
	// stay in effect); empty when it succeeded.
	Error string
}

// WatcherOptions configure a Watcher. Source and Apply are required.
type WatcherOptions struct {
	Source   Source
	Apply    ApplyFunc
	Interval time.Duration // between reads; default DefaultRefresh
	// Known lists the names the service uses; others are logged (once per
	// change) as ignored. Empty: no such check.
	Known []string
	// Secrets are names whose values are blanked out of any error message.
	Secrets []string
	// OnChange is called after an apply and whenever the error changes.
	OnChange func(State)
	Logger   *slog.Logger
}

// DefaultRefresh is how often a service re-reads its settings.
const DefaultRefresh = 5 * time.Second

// readTimeout bounds one read (the SDK retries within it).
const readTimeout = 30 * time.Second

// Watcher keeps a service's settings in step with its Source: it applies a
// set whenever its Version differs from the one in effect. A failed read or
// apply keeps the settings in effect and is tried again at the next interval.
type Watcher struct {
	opts WatcherOptions

	mu      sync.Mutex
	state   State
	applied map[string]string // nil until a set was applied
}

// NewWatcher returns a Watcher; Refresh or Run start it.
func NewWatcher(opts WatcherOptions) *Watcher {
	if opts.Interval <= 0 {
		opts.Interval = DefaultRefresh
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.OnChange == nil {
		opts.OnChange = func(State) {}
	}
	return &Watcher{opts: opts}
}

// State returns the version in effect and the last error.
func (w *Watcher) State() State {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.state
}

// Run calls Refresh every interval until ctx ends.
func (w *Watcher) Run(ctx context.Context) {
	ticker := time.NewTicker(w.opts.Interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			w.Refresh(ctx)
		}
	}
}

// Refresh reads the settings once and applies them if they changed. Calls
// must not overlap (Run makes them one after another).
func (w *Watcher) Refresh(ctx context.Context) {
	readCtx, cancel := context.WithTimeout(ctx, readTimeout)
	values, err := w.opts.Source.Read(readCtx)
	cancel()
	if err != nil {
		w.failed("read", err, nil)
		return
	}
	version := Version(values)
	w.mu.Lock()
	unchanged := w.applied != nil && w.state.Version == version
	previous := w.applied
	w.mu.Unlock()
	if unchanged {
		w.succeeded(version, nil, nil)
		return
	}
	if err := w.opts.Apply(ctx, values); err != nil {
		w.failed("apply", err, values)
		return
	}
	w.succeeded(version, previous, values)
}

// succeeded records a good read; applied is nil when nothing new was applied.
func (w *Watcher) succeeded(version string, previous, applied map[string]string) {
	w.mu.Lock()
	hadError := w.state.Error != ""
	w.state.Error = ""
	if applied != nil {
		w.state.Version, w.applied = version, applied
	}
	state := w.state
	w.mu.Unlock()
	log := w.opts.Logger
	if applied != nil {
		log.Info("settings applied", "version", version, "changed", changedNames(previous, applied))
		if unknown := w.unknown(previous, applied); len(unknown) > 0 {
			log.Warn("settings: ignoring parameters this service does not use", "names", unknown)
		}
	} else if hadError {
		log.Info("settings: reading works again, nothing changed", "version", version)
	}
	if applied != nil || hadError {
		w.opts.OnChange(state)
	}
}

// failed records an error; values are the set that could not be applied.
func (w *Watcher) failed(what string, err error, values map[string]string) {
	w.mu.Lock()
	msg := w.redact(what+" settings: "+err.Error(), values)
	changed := w.state.Error != msg
	w.state.Error = msg
	state := w.state
	w.mu.Unlock()
	level := slog.LevelWarn
	if !changed {
		level = slog.LevelDebug // the same failure again: said once at warn
	}
	attrs := []any{"error", msg, "version", state.Version, "retry_in", w.opts.Interval}
	if values != nil {
		attrs = append(attrs, "names", slices.Sorted(maps.Keys(values)))
	}
	w.opts.Logger.Log(context.Background(), level, "settings: keeping the last good settings", attrs...)
	if changed {
		w.opts.OnChange(state)
	}
}

// redact blanks the values of secret settings, in effect or attempted, out of
// msg. Call with w.mu held.
func (w *Watcher) redact(msg string, attempted map[string]string) string {
	for _, name := range w.opts.Secrets {
		for _, set := range []map[string]string{w.applied, attempted} {
			if v := set[name]; v != "" {
				msg = strings.ReplaceAll(msg, v, "<"+name+">")
			}
		}
	}
	return msg
}

// unknown lists the names of values the service does not use, when they
// differ from those of previous (so each is said once).
func (w *Watcher) unknown(previous, values map[string]string) []string {
	if len(w.opts.Known) == 0 {
		return nil
	}
	var names []string
	for name := range values {
		if _, was := previous[name]; !slices.Contains(w.opts.Known, name) && !was {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// changedNames lists the names added, removed or changed; never a value.
func changedNames(previous, next map[string]string) []string {
	var names []string
	for name, v := range next {
		if old, ok := previous[name]; !ok || old != v {
			names = append(names, name)
		}
	}
	for name := range previous {
		if _, ok := next[name]; !ok {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}
