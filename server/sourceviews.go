package server

import (
	"sync"

	"akconn/gen"
	"akconn/store"
)

// sourceViews keeps the nested form (sourceJSON) of each source a
// connection answer embeds, by source id and version: the store bumps a
// source's version in every committed change, and a connection read
// carries the version the database holds, so a view is shared only by
// answers of that very version. Converting the source (parsing its uuids,
// building its pointers) once per version instead of once per answer
// spares every retrieve that work. The views are read-only once made: encoders and the
// response validator only read them.
type sourceViews struct {
	mu    sync.RWMutex
	views map[string]*sourceView
}

type sourceView struct {
	version int64
	view    gen.Source
}

// maxSourceViews bounds the views kept; when full, they start over.
const maxSourceViews = 10000

// of returns the nested form of src, made once per id and version.
func (v *sourceViews) of(src *store.OAuthSource) *gen.Source {
	v.mu.RLock()
	got, ok := v.views[src.ID]
	v.mu.RUnlock()
	if ok && got.version == src.Version {
		return &got.view
	}
	made := &sourceView{version: src.Version, view: sourceJSON(src)}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.views == nil || len(v.views) >= maxSourceViews {
		v.views = map[string]*sourceView{}
	}
	if old, ok := v.views[src.ID]; !ok || old.version <= src.Version {
		v.views[src.ID] = made
	}
	return &made.view
}
