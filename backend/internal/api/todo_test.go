package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/myappctl/myappctl/backend/internal/store"
)

func TestTodoLifecycle(t *testing.T) {
	forEachBackend(t, func(t *testing.T, open func(testing.TB) *store.SQL) {
		srv := newServer(t, open(t), serverOptions{})

		if got := srv.list(t); len(got) != 0 {
			t.Fatalf("a new database lists %v, want []", got)
		}
		if r := srv.do(t, "GET", "/todo", ""); strings.TrimSpace(string(r.body)) != "[]" {
			t.Errorf("empty list body = %q, want []", r.body)
		}

		r := srv.do(t, "POST", "/todo", `{"title":"buy milk","label":"home"}`)
		mustStatus(t, r, http.StatusCreated)
		milk := decode[todo](t, r)
		if milk.ID == "" || milk.Title != "buy milk" || milk.Label != "home" || milk.Completed {
			t.Errorf("created %+v", milk)
		}
		if loc := r.header.Get("Location"); loc != "/todo/"+milk.ID {
			t.Errorf("Location = %q, want /todo/%s", loc, milk.ID)
		}
		if milk.CreatedAt != milk.UpdatedAt {
			t.Errorf("a new todo has createdAt %s != updatedAt %s", milk.CreatedAt, milk.UpdatedAt)
		}
		parseTime(t, "createdAt", milk.CreatedAt)

		bread := srv.create(t, `{"title":"bake bread","completed":true}`)
		if bread.Label != "" || !bread.Completed {
			t.Errorf("created %+v, want empty label and completed", bread)
		}
		if got := srv.list(t); len(got) != 2 || got[0] != bread || got[1] != milk {
			t.Fatalf("list = %+v, want newest first [%+v %+v]", got, bread, milk)
		}

		// Partial updates change only what they name.
		updates := []struct {
			body string
			want func(todo) todo
		}{
			{`{"completed":true}`, func(x todo) todo { x.Completed = true; return x }},
			{`{"label":"shop"}`, func(x todo) todo { x.Label = "shop"; return x }},
			{`{"title":"buy oat milk"}`, func(x todo) todo { x.Title = "buy oat milk"; return x }},
			{`{"title":"milk","label":"","completed":false}`, func(x todo) todo {
				x.Title, x.Label, x.Completed = "milk", "", false
				return x
			}},
			{`{"completed":true,"title":null}`, func(x todo) todo { x.Completed = true; return x }},
			// A whole todo echoed back from GET: read-only fields are ignored.
			{fmt.Sprintf(`{"_id":"999","title":"milk!","label":"x","completed":false,"createdAt":"2000-01-01T00:00:00Z","updatedAt":"x"}`),
				func(x todo) todo { x.Title, x.Label, x.Completed = "milk!", "x", false; return x }},
		}
		current := milk
		for _, u := range updates {
			r := srv.do(t, "PUT", "/todo/"+milk.ID, u.body)
			mustStatus(t, r, http.StatusOK)
			got := decode[todo](t, r)
			want := u.want(current)
			want.UpdatedAt = got.UpdatedAt
			if got != want {
				t.Errorf("PUT %s = %+v, want %+v", u.body, got, want)
			}
			if parseTime(t, "updatedAt", got.UpdatedAt).Before(parseTime(t, "createdAt", got.CreatedAt)) {
				t.Errorf("updatedAt %s is before createdAt %s", got.UpdatedAt, got.CreatedAt)
			}
			current = got
		}
		if got := srv.list(t); got[1] != current {
			t.Errorf("list shows %+v, want the updated %+v", got[1], current)
		}

		r = srv.do(t, "DELETE", "/todo/"+milk.ID, "")
		mustStatus(t, r, http.StatusOK)
		if got := decode[todo](t, r); got != current {
			t.Errorf("DELETE returned %+v, want the deleted %+v", got, current)
		}
		if got := srv.list(t); len(got) != 1 || got[0] != bread {
			t.Errorf("after DELETE list = %+v, want [%+v]", got, bread)
		}
		mustStatus(t, srv.do(t, "DELETE", "/todo/"+milk.ID, ""), http.StatusNotFound)
		mustStatus(t, srv.do(t, "PUT", "/todo/"+milk.ID, `{"completed":true}`), http.StatusNotFound)
	})
}

func TestTrailingSlashRoutes(t *testing.T) {
	srv := newServer(t, backends[0].open(t), serverOptions{})
	mustStatus(t, srv.do(t, "POST", "/todo/", `{"title":"x"}`), http.StatusCreated)
	if got := decode[[]todo](t, srv.do(t, "GET", "/todo/", "")); len(got) != 1 {
		t.Errorf("GET /todo/ = %v", got)
	}
}

func TestBadInput(t *testing.T) {
	long := func(n int) string { return strings.Repeat("é", n) } // multi-byte: limits count characters
	tests := []struct {
		name, method, path, body string
		status                   int
		errContains              string
	}{
		{"malformed JSON", "POST", "/todo", `{"title": "a",}`, 400, "malformed JSON at byte"},
		{"truncated JSON", "POST", "/todo", `{"title": "a"`, 400, "malformed JSON"},
		{"not JSON at all", "POST", "/todo", `title=a`, 400, "malformed JSON"},
		{"empty body", "POST", "/todo", ``, 400, "body is empty"},
		{"array body", "POST", "/todo", `[{"title":"a"}]`, 400, "must be a JSON object, not an array"},
		{"string body", "POST", "/todo", `"a"`, 400, "must be a JSON object"},
		{"two objects", "POST", "/todo", `{"title":"a"}{"title":"b"}`, 400, "single JSON object"},
		{"missing title", "POST", "/todo", `{"label":"x"}`, 400, `"title" is required`},
		{"null title", "POST", "/todo", `{"title":null}`, 400, `"title" is required`},
		{"empty title", "POST", "/todo", `{"title":""}`, 400, `"title" is required`},
		{"blank title", "POST", "/todo", `{"title":" \t\n "}`, 400, `must not be blank`},
		{"title too long", "POST", "/todo", fmt.Sprintf(`{"title":%q}`, long(201)), 400, `"title" is 201 characters long; the limit is 200`},
		{"label too long", "POST", "/todo", fmt.Sprintf(`{"title":"a","label":%q}`, long(51)), 400, `"label" is 51 characters long; the limit is 50`},
		{"body too large", "POST", "/todo", fmt.Sprintf(`{"title":"a","label":"b","x":%q}`, strings.Repeat("x", 17<<10)), 413, "too large"},
		{"body too large after a valid object", "POST", "/todo", `{"title":"a"}` + strings.Repeat(" ", 17<<10) + "1", 413, "too large"},
		{"unknown field", "POST", "/todo", `{"title":"a","priority":1}`, 400, `unknown field "priority"`},
		{"title of wrong type", "POST", "/todo", `{"title":5}`, 400, `field "title" must be a string, not a number`},
		{"completed of wrong type", "POST", "/todo", `{"title":"a","completed":"yes"}`, 400, `field "completed" must be a boolean (true or false), not a string`},
		{"label of wrong type", "POST", "/todo", `{"title":"a","label":["x"]}`, 400, `field "label" must be a string, not an array`},
		{"PUT unknown id", "PUT", "/todo/999999", `{"completed":true}`, 404, `todo "999999" not found`},
		{"PUT non-numeric id", "PUT", "/todo/abc", `{"completed":true}`, 404, "not found"},
		{"PUT injection id", "PUT", "/todo/1%20OR%201=1", `{"completed":true}`, 404, "not found"},
		{"DELETE unknown id", "DELETE", "/todo/999999", ``, 404, `todo "999999" not found`},
		{"DELETE non-numeric id", "DELETE", "/todo/x'--", ``, 404, "not found"},
		{"PUT nothing to update", "PUT", "/todo/{id}", `{}`, 400, "nothing to update"},
		{"PUT blank title", "PUT", "/todo/{id}", `{"title":"  "}`, 400, "must not be blank"},
		{"PUT title too long", "PUT", "/todo/{id}", fmt.Sprintf(`{"title":%q}`, long(201)), 400, "limit is 200"},
		{"PUT label too long", "PUT", "/todo/{id}", fmt.Sprintf(`{"label":%q}`, long(51)), 400, "limit is 50"},
		{"PUT completed of wrong type", "PUT", "/todo/{id}", `{"completed":1}`, 400, `field "completed" must be a boolean`},
		{"PUT malformed JSON", "PUT", "/todo/{id}", `{completed:true}`, 400, "malformed JSON"},
		{"PUT unknown field", "PUT", "/todo/{id}", `{"done":true}`, 400, `unknown field "done"`},
		{"PUT body too large", "PUT", "/todo/{id}", fmt.Sprintf(`{"title":%q}`, strings.Repeat("x", 17<<10)), 413, "too large"},
	}
	forEachBackend(t, func(t *testing.T, open func(testing.TB) *store.SQL) {
		srv := newServer(t, open(t), serverOptions{})
		existing := srv.create(t, `{"title":"existing","label":"keep"}`)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := srv.do(t, tt.method, strings.ReplaceAll(tt.path, "{id}", existing.ID), tt.body)
				if r.status != tt.status {
					t.Fatalf("status %d, want %d; body %s", r.status, tt.status, r.body)
				}
				got := decode[struct {
					Error string `json:"error"`
				}](t, r)
				if !strings.Contains(got.Error, tt.errContains) {
					t.Errorf("error %q does not say %q", got.Error, tt.errContains)
				}
			})
		}
		// Nothing above may have changed the stored data.
		if got := srv.list(t); len(got) != 1 || got[0] != existing {
			t.Errorf("after bad requests list = %+v, want only %+v", got, existing)
		}
		if strings.Contains(srv.logs.String(), "status=500") {
			t.Errorf("a bad request caused a 500:\n%s", srv.logs.String())
		}
	})
}

func TestTextIsStoredVerbatim(t *testing.T) {
	titles := []struct{ name, title, label string }{
		{"SQL injection", `'); DROP TABLE todos;--`, `" OR 1=1 --`},
		{"quotes and backslashes", `it's "quoted" \ back\\slash \' \"`, `'\''`},
		{"SQL wildcards and comments", `100% _done_ /* not a comment */ # neither`, `%_`},
		{"unicode", "naïve café — 日本語のテキスト", "ラベル"},
		{"emoji outside the BMP", "🍕🎉👩‍👩‍👧 pizza party", "🎂"},
		{"HTML", `<script>alert("x")</script> & <b>bold</b>`, `<i>`},
		{"control characters", "tab\there\nnew line\r\n", "\x01\x7f"},
		{"NUL byte", "before\x00after", "a\x00b"},
		{"leading and trailing spaces", "  spaced  ", " "},
		{"exactly at the limits", strings.Repeat("ü", 200), strings.Repeat("🙂", 50)},
	}
	forEachBackend(t, func(t *testing.T, open func(testing.TB) *store.SQL) {
		srv := newServer(t, open(t), serverOptions{})
		for _, tt := range titles {
			t.Run(tt.name, func(t *testing.T) {
				body := fmt.Sprintf(`{"title":%s,"label":%s}`, jsonString(tt.title), jsonString(tt.label))
				created := srv.create(t, body)
				if created.Title != tt.title || created.Label != tt.label {
					t.Errorf("POST returned %q / %q", created.Title, created.Label)
				}
				listed := srv.list(t)[0]
				if listed.Title != tt.title || listed.Label != tt.label {
					t.Errorf("GET returned %q / %q, want %q / %q", listed.Title, listed.Label, tt.title, tt.label)
				}
				renamed := "!" + string([]rune(tt.title)[1:]) // same length, so the limit case stays at the limit
				r := srv.do(t, "PUT", "/todo/"+created.ID, fmt.Sprintf(`{"title":%s}`, jsonString(renamed)))
				mustStatus(t, r, http.StatusOK)
				if got := decode[todo](t, r); got.Title != renamed || got.Label != tt.label {
					t.Errorf("PUT returned %q / %q", got.Title, got.Label)
				}
			})
		}
		if got := srv.list(t); len(got) != len(titles) {
			t.Errorf("list has %d todos, want %d: the table must still be there", len(got), len(titles))
		}
	})
}

// jsonString encodes s as a JSON string the way a browser would, \u escapes included.
func jsonString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
