package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/myappctl/myappctl/backend/internal/store"
)

// todoJSON is a todo on the wire, as the original Express/Sequelize API had it.
type todoJSON struct {
	ID        string `json:"_id"`
	Title     string `json:"title"`
	Label     string `json:"label"`
	Completed bool   `json:"completed"`
	CreatedAt string `json:"createdAt"`
	UpdatedAt string `json:"updatedAt"`
}

// timeFormat is RFC 3339 in UTC with milliseconds, like JavaScript's toISOString.
const timeFormat = "2006-01-02T15:04:05.000Z07:00"

func toJSON(t store.Todo) todoJSON {
	return todoJSON{ID: t.ID, Title: t.Title, Label: t.Label, Completed: t.Completed,
		CreatedAt: t.CreatedAt.UTC().Format(timeFormat), UpdatedAt: t.UpdatedAt.UTC().Format(timeFormat)}
}

// todoRequest is the body of POST and PUT. A field left out (or null) is not
// set. The read-only fields may be echoed back from a GET and are ignored.
type todoRequest struct {
	Title     *string `json:"title"`
	Label     *string `json:"label"`
	Completed *bool   `json:"completed"`

	ID        json.RawMessage `json:"_id"`
	CreatedAt json.RawMessage `json:"createdAt"`
	UpdatedAt json.RawMessage `json:"updatedAt"`
}

func (req todoRequest) validate(creating bool) *requestError {
	if req.Title != nil || creating {
		if req.Title == nil || strings.TrimSpace(*req.Title) == "" {
			return badRequest(`"title" is required and must not be blank`)
		}
		if n := utf8.RuneCountInString(*req.Title); n > MaxTitleLen {
			return badRequest(`"title" is %d characters long; the limit is %d`, n, MaxTitleLen)
		}
	}
	if req.Label != nil {
		if n := utf8.RuneCountInString(*req.Label); n > MaxLabelLen {
			return badRequest(`"label" is %d characters long; the limit is %d`, n, MaxLabelLen)
		}
	}
	if !creating && req.Title == nil && req.Label == nil && req.Completed == nil {
		return badRequest(`nothing to update: send at least one of "title", "label", "completed"`)
	}
	return nil
}

func (s *server) listTodos(w http.ResponseWriter, r *http.Request) {
	todos, err := s.store.List(r.Context())
	if err != nil {
		s.storeError(w, r, "", err)
		return
	}
	out := make([]todoJSON, len(todos))
	for i, t := range todos {
		out[i] = toJSON(t)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *server) createTodo(w http.ResponseWriter, r *http.Request) {
	var req todoRequest
	if rerr := decodeJSON(w, r, &req); rerr != nil {
		writeError(w, rerr.status, "%s", rerr.msg)
		return
	}
	if rerr := req.validate(true); rerr != nil {
		writeError(w, rerr.status, "%s", rerr.msg)
		return
	}
	n := store.NewTodo{Title: *req.Title}
	if req.Label != nil {
		n.Label = *req.Label
	}
	if req.Completed != nil {
		n.Completed = *req.Completed
	}
	t, err := s.store.Create(r.Context(), n)
	if err != nil {
		s.storeError(w, r, "", err)
		return
	}
	w.Header().Set("Location", "/todo/"+t.ID)
	writeJSON(w, http.StatusCreated, toJSON(t))
}

func (s *server) updateTodo(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var req todoRequest
	if rerr := decodeJSON(w, r, &req); rerr != nil {
		writeError(w, rerr.status, "%s", rerr.msg)
		return
	}
	if rerr := req.validate(false); rerr != nil {
		writeError(w, rerr.status, "%s", rerr.msg)
		return
	}
	t, err := s.store.Update(r.Context(), id, store.Patch{Title: req.Title, Label: req.Label, Completed: req.Completed})
	if err != nil {
		s.storeError(w, r, id, err)
		return
	}
	writeJSON(w, http.StatusOK, toJSON(t))
}

// deleteTodo answers 200 with the deleted todo, so clients that parse every
// response as JSON keep working.
func (s *server) deleteTodo(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	t, err := s.store.Delete(r.Context(), id)
	if err != nil {
		s.storeError(w, r, id, err)
		return
	}
	writeJSON(w, http.StatusOK, toJSON(t))
}
