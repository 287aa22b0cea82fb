package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/myappctl/myappctl/frontend/internal/server"
)

// TestPageAgainstRealBackend is the whole user journey: the page loads, a
// person adds, completes and deletes todos, sees the backend's images in the
// carousel, and is told plainly when the backend goes away.
func TestPageAgainstRealBackend(t *testing.T) {
	b := newBrowser(t) // first, so a laptop without Chromium skips before the build
	api := startBackend(t)
	front := startFrontend(t, api.URL)
	images := carouselURLs(t, api.URL)

	b.do(t, "opening the page", chromedp.Navigate(front.URL))
	b.waitFor(t, "the page says the API is connected", `document.getElementById('api-status').dataset.state === 'online'`)
	b.waitFor(t, "the empty list says so", `document.getElementById('list-status').textContent.includes('Nothing to do yet')`)

	addTodo(t, b, "Book the dentist", "health")
	addTodo(t, b, "Write the release notes", "work")
	addTodo(t, b, "Buy oat milk", "groceries")
	titles := eval[[]string](t, b, `[...document.querySelectorAll('#todo-list .todo-title')].map(e => e.textContent)`)
	if strings.Join(titles, "|") != "Buy oat milk|Write the release notes|Book the dentist" {
		t.Errorf("list shows %q, want the newest first", titles)
	}
	wantBackendTodo(t, api, "Buy oat milk", "groceries", false)

	b.do(t, "ticking “Book the dentist”", chromedp.Click(chromedp.JSPath(todoItem("Book the dentist")+`.querySelector('.todo-check')`)))
	b.waitFor(t, "“Book the dentist” shows as done", todoItem("Book the dentist")+`?.classList.contains('is-done') && !`+todoItem("Book the dentist")+`.classList.contains('is-busy')`)
	if !eval[bool](t, b, todoItem("Book the dentist")+`.querySelector('.todo-check').checked`) {
		t.Error("the checkbox of the completed todo is not checked")
	}
	wantBackendTodo(t, api, "Book the dentist", "health", true)

	checkCarousel(t, b, images)
	saveScreenshot(t, b)

	b.do(t, "deleting “Write the release notes”", chromedp.Click(chromedp.JSPath(todoItem("Write the release notes")+`.querySelector('.todo-delete')`)))
	b.waitFor(t, "“Write the release notes” is gone", `!`+todoItem("Write the release notes"))
	if todos := backendTodos(t, api); len(todos) != 2 || hasTitle(todos, "Write the release notes") {
		t.Errorf("after the delete the backend has %+v", todos)
	}

	// The list is now stale: another client deletes a todo. Ticking it must
	// show the API's own 404 message and drop the todo from the list.
	deleteOnBackend(t, api, "Buy oat milk")
	b.do(t, "ticking “Buy oat milk”, already deleted elsewhere", chromedp.Click(chromedp.JSPath(todoItem("Buy oat milk")+`.querySelector('.todo-check')`)))
	b.waitFor(t, "the page shows the API's not-found message",
		`document.getElementById('errors').textContent.includes('Could not update the todo: ') && document.getElementById('errors').textContent.includes('not found')`)
	b.waitFor(t, "the stale todo leaves the list", `!`+todoItem("Buy oat milk"))

	api.Stop(t)
	b.do(t, "adding a todo with the backend stopped",
		chromedp.SendKeys(chromedp.ID("todo-title"), "This cannot be saved"),
		chromedp.Click(chromedp.ID("add-button")))
	unreachable := `document.getElementById('errors').textContent.includes(` + jsString("Backend unreachable at "+api.URL) + `)`
	b.waitFor(t, "the page says the backend is unreachable", unreachable)
	b.waitFor(t, "the header shows the API as unreachable", `document.getElementById('api-status').dataset.state === 'offline'`)
	if got := eval[string](t, b, `document.getElementById('todo-title').value`); got != "This cannot be saved" {
		t.Errorf("the title field holds %q after the failed add; the typed text must be kept", got)
	}

	b.checkNoExceptions(t)
}

// TestPageWithBackendDown loads the page from a frontend whose APIURL points at
// a closed port: the person sees why nothing loads, not a blank page.
func TestPageWithBackendDown(t *testing.T) {
	b := newBrowser(t)
	apiURL := closedPortURL(t)
	front := startFrontend(t, apiURL)

	b.do(t, "opening the page", chromedp.Navigate(front.URL))
	b.waitFor(t, "the page says the backend is unreachable",
		`document.getElementById('errors').textContent.includes(`+jsString("Backend unreachable at "+apiURL+": ")+`)`)
	b.waitFor(t, "the gallery shows its unavailable state",
		`!document.getElementById('carousel-empty').hidden && document.getElementById('carousel-empty').textContent.includes('unavailable')`)
	if role := eval[string](t, b, `document.getElementById('errors').getAttribute('aria-live')`); role != "assertive" {
		t.Errorf("the error area has aria-live=%q, want assertive", role)
	}
	b.checkNoExceptions(t)
}

func startFrontend(t *testing.T, apiURL string) *httptest.Server {
	t.Helper()
	srv, err := server.New(server.Config{APIURL: apiURL})
	if err != nil {
		t.Fatalf("frontend server: %v", err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts
}

// addTodo types a todo into the form, submits it (button or Enter key) and
// waits until the list shows it.
func addTodo(t *testing.T, b *browser, title, label string) {
	t.Helper()
	steps := []chromedp.Action[chromedp.Void]{chromedp.SendKeys(chromedp.ID("todo-title"), title)}
	if label != "" {
		steps = append(steps, chromedp.SendKeys(chromedp.ID("todo-label"), label))
	}
	steps = append(steps, chromedp.SendKeys(chromedp.ID("todo-title"), "\r"))
	b.do(t, "adding “"+title+"”", steps...)
	b.waitFor(t, "“"+title+"” is listed",
		todoItem(title)+`?.querySelector('.chip').textContent === `+jsString(label))
	b.waitFor(t, "the form is ready again", `document.getElementById('todo-title').value === '' && !document.getElementById('add-button').disabled`)
}

// todoItem is a JavaScript expression for the <li> of the todo with this title.
func todoItem(title string) string {
	return `[...document.querySelectorAll('#todo-list .todo')].find(li => li.querySelector('.todo-title').textContent === ` + jsString(title) + `)`
}

func checkCarousel(t *testing.T, b *browser, images []string) {
	t.Helper()
	if len(images) == 0 {
		t.Fatal("the backend's /carrousel returned no images; the bundled fallback should give some")
	}
	want, _ := json.Marshal(images)
	b.waitFor(t, "an image from /carrousel is shown and loaded",
		`(() => { const want = new Set(`+string(want)+`.map(u => new URL(u).href));
		  const img = document.querySelector('#slides .slide.is-active img');
		  return img && want.has(img.src) && img.complete && img.naturalWidth > 0; })()`)
	alts := eval[[]string](t, b, `[...document.querySelectorAll('#slides img')].map(i => i.alt)`)
	if len(alts) != len(images) {
		t.Errorf("the carousel has %d images, /carrousel lists %d", len(alts), len(images))
	}
	for i, alt := range alts {
		if strings.TrimSpace(alt) == "" {
			t.Errorf("carousel image %d has no alt text", i+1)
		}
	}
	if len(images) > 1 {
		b.do(t, "pressing Next", chromedp.Click(chromedp.ID("carousel-next")))
		b.waitFor(t, "the counter moves to image 2", `document.getElementById('carousel-counter').textContent.startsWith('2 / ')`)
		b.do(t, "pressing Previous", chromedp.Click(chromedp.ID("carousel-prev")))
		b.waitFor(t, "the counter is back at image 1", `document.getElementById('carousel-counter').textContent.startsWith('1 / ')`)
		b.do(t, "pressing the right arrow key in the carousel",
			chromedp.Focus(chromedp.ID("carousel-play")), chromedp.KeyEvent(kb.ArrowRight))
		b.waitFor(t, "the arrow key moves to image 2", `document.getElementById('carousel-counter').textContent.startsWith('2 / ')`)
		b.do(t, "pressing the left arrow key in the carousel", chromedp.KeyEvent(kb.ArrowLeft))
		b.waitFor(t, "the arrow key moves back to image 1", `document.getElementById('carousel-counter').textContent.startsWith('1 / ')`)
		if eval[bool](t, b, `document.getElementById('carousel').classList.contains('is-playing')`) {
			t.Error("the carousel auto-advances although the user prefers reduced motion")
		}
	}
	// Move focus and pointer away so the screenshot shows the page at rest.
	b.do(t, "moving focus and pointer off the controls",
		chromedp.Evaluate[chromedp.Void](`document.activeElement.blur()`),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, 1, 1))
}

// saveScreenshot keeps a picture of the page as a test artefact, and refreshes
// docs/screenshot.png when UPDATE_SCREENSHOT is set.
func saveScreenshot(t *testing.T, b *browser) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("taking a screenshot: %v", err)
	}
	dir := os.Getenv("TEST_ARTIFACTS_DIR")
	if dir == "" {
		dir = os.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "frontend-screenshot-"+time.Now().Format("20060102-150405")+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the page: %s", path)
	if os.Getenv("UPDATE_SCREENSHOT") != "" {
		docs := filepath.Join(moduleRoot, "docs", "screenshot.png")
		if err := os.WriteFile(docs, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("updated %s", docs)
	}
}

type apiTodo struct {
	ID        string `json:"_id"`
	Title     string `json:"title"`
	Label     string `json:"label"`
	Completed bool   `json:"completed"`
}

func backendTodos(t *testing.T, api *backend) []apiTodo {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	raw, err := getJSON(ctx, api.URL+"/todo")
	if err != nil {
		t.Fatalf("asking the backend for its todos: %v", err)
	}
	var todos []apiTodo
	if err := json.Unmarshal(raw, &todos); err != nil {
		t.Fatalf("decoding GET /todo: %v: %s", err, raw)
	}
	return todos
}

func wantBackendTodo(t *testing.T, api *backend, title, label string, completed bool) {
	t.Helper()
	for _, td := range backendTodos(t, api) {
		if td.Title == title {
			if td.Label != label || td.Completed != completed {
				t.Errorf("backend has %+v, want label %q completed %v", td, label, completed)
			}
			return
		}
	}
	t.Errorf("the backend has no todo %q", title)
}

func deleteOnBackend(t *testing.T, api *backend, title string) {
	t.Helper()
	for _, td := range backendTodos(t, api) {
		if td.Title != title {
			continue
		}
		req, err := http.NewRequest(http.MethodDelete, api.URL+"/todo/"+url.PathEscape(td.ID), nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("deleting %q on the backend: %v", title, err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNoContent && res.StatusCode != http.StatusOK {
			t.Fatalf("deleting %q on the backend: status %d", title, res.StatusCode)
		}
		return
	}
	t.Fatalf("the backend has no todo %q to delete", title)
}

func hasTitle(todos []apiTodo, title string) bool {
	for _, td := range todos {
		if td.Title == title {
			return true
		}
	}
	return false
}

func carouselURLs(t *testing.T, apiURL string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	raw, err := getJSON(ctx, apiURL+"/carrousel")
	if err != nil {
		t.Fatalf("asking the backend for the carousel: %v", err)
	}
	var items []struct {
		URL string `json:"url"`
	}
	if err := json.Unmarshal(raw, &items); err != nil {
		t.Fatalf("decoding GET /carrousel: %v: %s", err, raw)
	}
	urls := make([]string, 0, len(items))
	for _, it := range items {
		if strings.HasPrefix(it.URL, "/") { // a path on the backend itself
			it.URL = apiURL + it.URL
		}
		urls = append(urls, it.URL)
	}
	return urls
}
