// Entry point: read the API URL from the server that served the page, then
// load the todos and the gallery, and show any failure in plain words.

import { Api, loadConfig } from './api.js';
import { Carousel } from './carousel.js';
import { TodoList } from './todos.js';

const errorsEl = document.getElementById('errors');
const announcer = document.getElementById('announcer');
const apiStatus = document.getElementById('api-status');
const apiStatusText = document.getElementById('api-status-text');
const apiUrlEl = document.getElementById('api-url');

let retry = () => window.location.reload();

function setApiState(state, text) {
  apiStatus.dataset.state = state;
  apiStatusText.textContent = text;
}

// report shows one failure at a time, with a way to try again.
function report(context, err) {
  const message = err && err.unreachable ? err.message : `${context}: ${(err && err.message) || err}`;
  if (err && err.unreachable) setApiState('offline', 'API unreachable');
  const box = document.createElement('div');
  box.className = 'alert';
  const text = document.createElement('p');
  text.className = 'alert-text';
  text.textContent = message;
  const actions = document.createElement('div');
  actions.className = 'alert-actions';
  const again = document.createElement('button');
  again.type = 'button';
  again.className = 'btn btn-small';
  again.textContent = 'Try again';
  again.addEventListener('click', () => retry());
  const dismiss = document.createElement('button');
  dismiss.type = 'button';
  dismiss.className = 'btn btn-small btn-quiet';
  dismiss.textContent = 'Dismiss';
  dismiss.addEventListener('click', () => clearErrors());
  actions.append(again, dismiss);
  box.append(text, actions);
  errorsEl.replaceChildren(box);
}

function clearErrors() {
  errorsEl.replaceChildren();
}

function announce(text) {
  // Clearing first makes a repeated message count as new.
  announcer.textContent = '';
  setTimeout(() => { announcer.textContent = text; }, 50);
}

async function start() {
  let apiUrl;
  try {
    apiUrl = await loadConfig();
  } catch (err) {
    setApiState('offline', 'No API configured');
    report('Could not start', err);
    return;
  }
  apiUrlEl.textContent = apiUrl;
  const api = new Api(apiUrl);
  const onOk = () => { clearErrors(); setApiState('online', 'API connected'); };
  const todos = new TodoList({ api, report, clear: onOk, announce });
  const carousel = new Carousel();

  const loadImages = async () => {
    try {
      carousel.show(await api.listImages(), apiUrl);
    } catch (err) {
      carousel.unavailable();
      if (!errorsEl.hasChildNodes()) report('Could not load the gallery', err);
    }
  };
  retry = async () => {
    await todos.load();
    await loadImages();
  };
  await retry();
}

start();
