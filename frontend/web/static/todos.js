// The todo list: load, add, toggle and delete, keeping keyboard focus where a
// person expects it and leaving every message to the callbacks it is given.

const relativeTime = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
const fullDate = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export class TodoList {
  // api: an Api; report(context, err) shows a failure; clear() hides it;
  // announce(text) tells screen-reader users what just happened.
  constructor({ api, report, clear, announce }) {
    Object.assign(this, { api, report, clear, announce });
    this.todos = [];
    this.items = new Map(); // todo id -> <li>
    this.loaded = false;
    this.nextDomId = 0;
    this.form = document.getElementById('add-form');
    this.titleInput = document.getElementById('todo-title');
    this.labelInput = document.getElementById('todo-label');
    this.addButton = document.getElementById('add-button');
    this.titleError = document.getElementById('title-error');
    this.list = document.getElementById('todo-list');
    this.status = document.getElementById('list-status');
    this.count = document.getElementById('todo-count');
    this.labelOptions = document.getElementById('label-options');
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.add();
    });
    this.titleInput.addEventListener('input', () => this.showTitleError(false));
    setInterval(() => this.refreshTimes(), 60000);
  }

  async load() {
    this.status.textContent = 'Loading todos…';
    try {
      const todos = await this.api.listTodos();
      if (!Array.isArray(todos)) {
        throw new Error('the backend sent a todo list that is not an array');
      }
      this.todos = todos.map(normalize).filter(Boolean);
      this.loaded = true;
      this.clear();
    } catch (err) {
      this.report('Could not load the todos', err);
    }
    this.render();
  }

  async add() {
    const title = this.titleInput.value.trim();
    const label = this.labelInput.value.trim();
    if (!title) {
      this.showTitleError(true);
      this.titleInput.focus();
      return;
    }
    this.setAdding(true);
    try {
      const todo = normalize(await this.api.addTodo(title, label));
      if (!todo) {
        throw new Error('the backend did not send the new todo back');
      }
      this.todos = [todo, ...this.todos.filter((t) => t.id !== todo.id)];
      this.loaded = true;
      this.form.reset();
      this.clear();
      this.render();
      this.announce(`Added “${todo.title}”.`);
    } catch (err) {
      this.report('Could not add the todo', err);
    } finally {
      this.setAdding(false);
      this.titleInput.focus();
    }
  }

  async toggle(id, completed) {
    const li = this.items.get(id);
    this.setBusy(li, true);
    try {
      const updated = normalize(await this.api.updateTodo(id, { completed }));
      this.replace(updated || { ...this.find(id), completed });
      this.clear();
      this.announce(`“${this.find(id).title}” marked ${completed ? 'done' : 'not done'}.`);
    } catch (err) {
      if (err.status === 404) {
        // Someone else deleted it: the list was stale, so drop it here too.
        this.todos = this.todos.filter((t) => t.id !== id);
      }
      this.report('Could not update the todo', err);
    } finally {
      this.setBusy(li, false);
      this.render();
    }
  }

  async remove(id) {
    const li = this.items.get(id);
    const todo = this.find(id);
    const focusNext = li && li.contains(document.activeElement);
    const neighbour = li && (li.nextElementSibling || li.previousElementSibling);
    this.setBusy(li, true);
    try {
      await this.api.deleteTodo(id).catch((err) => {
        if (err.status !== 404) throw err; // already gone is what we wanted
      });
      this.todos = this.todos.filter((t) => t.id !== id);
      this.clear();
      this.render();
      this.announce(`Deleted “${todo ? todo.title : 'the todo'}”.`);
      if (focusNext) {
        (neighbour ? neighbour.querySelector('input') : this.titleInput).focus();
      }
    } catch (err) {
      this.setBusy(li, false);
      this.report('Could not delete the todo', err);
    }
  }

  find(id) { return this.todos.find((t) => t.id === id); }

  replace(todo) {
    this.todos = this.todos.map((t) => (t.id === todo.id ? todo : t));
  }

  // render updates the list in place, moving only what must move, so that the
  // focused checkbox or button keeps its focus.
  render() {
    const wanted = new Set(this.todos.map((t) => t.id));
    for (const [id, li] of this.items) {
      if (!wanted.has(id)) {
        li.remove();
        this.items.delete(id);
      }
    }
    this.todos.forEach((todo, index) => {
      let li = this.items.get(todo.id);
      if (!li) {
        li = this.createItem(todo.id);
        this.items.set(todo.id, li);
      }
      this.fillItem(li, todo);
      const current = this.list.children[index];
      if (current !== li) {
        this.list.insertBefore(li, current || null);
      }
    });
    this.renderSummary();
  }

  renderSummary() {
    const total = this.todos.length;
    const done = this.todos.filter((t) => t.completed).length;
    this.count.textContent = total ? `${total - done} open · ${done} done` : '';
    if (!this.loaded) {
      this.status.textContent = 'Todos are not available right now.';
    } else {
      this.status.textContent = total ? '' : 'Nothing to do yet. Add your first todo above.';
    }
    this.status.hidden = this.status.textContent === '';
    const labels = [...new Set(this.todos.map((t) => t.label).filter(Boolean))].sort();
    this.labelOptions.replaceChildren(...labels.map((label) => new Option(label)));
  }

  createItem(id) {
    const domId = `todo-${this.nextDomId++}`;
    const li = document.createElement('li');
    li.className = 'todo';
    li.dataset.id = id;

    const check = document.createElement('input');
    check.type = 'checkbox';
    check.id = domId;
    check.className = 'todo-check';
    check.addEventListener('change', () => this.toggle(id, check.checked));

    const body = document.createElement('div');
    body.className = 'todo-body';
    const title = document.createElement('label');
    title.htmlFor = domId;
    title.className = 'todo-title';
    const meta = document.createElement('p');
    meta.className = 'todo-meta';
    const chip = document.createElement('span');
    chip.className = 'chip';
    const time = document.createElement('time');
    time.className = 'todo-time';
    meta.append(chip, time);
    body.append(title, meta);

    const del = document.createElement('button');
    del.type = 'button';
    del.className = 'icon-btn danger todo-delete';
    del.innerHTML = '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M5 7h14M10 11v6M14 11v6M9 7V4.5h6V7M6.5 7l.8 12.5h9.4L17.5 7"/></svg>';
    del.addEventListener('click', () => this.remove(id));

    li.append(check, body, del);
    return li;
  }

  fillItem(li, todo) {
    const [check, body, del] = li.children;
    const [title, meta] = body.children;
    const [chip, time] = meta.children;
    li.classList.toggle('is-done', todo.completed);
    check.checked = todo.completed;
    title.textContent = todo.title;
    chip.textContent = todo.label;
    chip.hidden = !todo.label;
    chip.style.setProperty('--chip-hue', String(hue(todo.label)));
    del.setAttribute('aria-label', `Delete “${todo.title}”`);
    del.title = 'Delete';
    time.dateTime = todo.createdAt ? todo.createdAt.toISOString() : '';
    time.textContent = todo.createdAt ? `Added ${ago(todo.createdAt)}` : '';
    time.title = todo.createdAt ? fullDate.format(todo.createdAt) : '';
  }

  refreshTimes() {
    for (const todo of this.todos) {
      const li = this.items.get(todo.id);
      if (li) this.fillItem(li, todo);
    }
  }

  setBusy(li, busy) {
    if (!li) return;
    li.classList.toggle('is-busy', busy);
    li.setAttribute('aria-busy', String(busy));
    li.querySelectorAll('input, button').forEach((el) => { el.disabled = busy; });
  }

  setAdding(adding) {
    this.addButton.disabled = adding;
    this.addButton.querySelector('span').textContent = adding ? 'Adding…' : 'Add todo';
  }

  showTitleError(show) {
    this.titleError.hidden = !show;
    this.titleInput.setAttribute('aria-invalid', String(show));
  }
}

// normalize turns an API todo into the shape the view uses, or null.
function normalize(raw) {
  if (!raw || typeof raw !== 'object') return null;
  const id = raw._id ?? raw.id;
  if (id === undefined || id === null) return null;
  const created = raw.createdAt ? new Date(raw.createdAt) : null;
  return {
    id: String(id),
    title: String(raw.title ?? ''),
    label: String(raw.label ?? ''),
    completed: Boolean(raw.completed),
    createdAt: created && !Number.isNaN(created.getTime()) ? created : null,
  };
}

function ago(date) {
  const seconds = Math.round((date.getTime() - Date.now()) / 1000);
  const steps = [[60, 'second'], [60, 'minute'], [24, 'hour'], [7, 'day'], [4.35, 'week'], [12, 'month']];
  let value = seconds;
  if (Math.abs(value) < 45) return 'just now';
  for (const [size, unit] of steps) {
    if (Math.abs(value) < size) return relativeTime.format(Math.round(value), unit);
    value /= size;
  }
  return relativeTime.format(Math.round(value), 'year');
}

// hue gives each label a stable colour.
function hue(label) {
  let h = 0;
  for (const ch of label) h = (h * 31 + ch.codePointAt(0)) % 360;
  return h;
}
