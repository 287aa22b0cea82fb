// The image carousel, after the WAI-ARIA carousel pattern: previous/next and
// dot buttons, a pause button, auto-advance that stops while the pointer or
// keyboard focus is on it, and no auto-advance at all for reduced motion.

export const ADVANCE_MS = 5000;
const MAX_DOTS = 12;

export class Carousel {
  constructor() {
    this.root = document.getElementById('carousel');
    this.slidesEl = document.getElementById('slides');
    this.empty = document.getElementById('carousel-empty');
    this.emptyTitle = document.getElementById('carousel-empty-title');
    this.emptyText = document.getElementById('carousel-empty-text');
    this.controls = document.getElementById('carousel-controls');
    this.dotsEl = document.getElementById('carousel-dots');
    this.counter = document.getElementById('carousel-counter');
    this.playButton = document.getElementById('carousel-play');
    this.slides = [];
    this.dots = [];
    this.index = 0;
    this.timer = 0;
    this.hovered = false;
    this.focused = false;

    const reduceMotion = window.matchMedia('(prefers-reduced-motion: reduce)');
    this.playing = !reduceMotion.matches;
    reduceMotion.addEventListener('change', () => this.setPlaying(!reduceMotion.matches));

    document.getElementById('carousel-prev').addEventListener('click', () => this.go(this.index - 1));
    document.getElementById('carousel-next').addEventListener('click', () => this.go(this.index + 1));
    this.playButton.addEventListener('click', () => this.setPlaying(!this.playing));
    this.root.addEventListener('mouseenter', () => { this.hovered = true; this.schedule(); });
    this.root.addEventListener('mouseleave', () => { this.hovered = false; this.schedule(); });
    this.root.addEventListener('focusin', () => { this.focused = true; this.schedule(); });
    this.root.addEventListener('focusout', (event) => {
      this.focused = this.root.contains(event.relatedTarget);
      this.schedule();
    });
    this.root.addEventListener('keydown', (event) => this.onKey(event));
    document.addEventListener('visibilitychange', () => this.schedule());
  }

  // show replaces the images; items is the API's [{url}] list. A path-only
  // URL ("/images/a.png") is taken as relative to the API.
  show(items, baseUrl) {
    const urls = (Array.isArray(items) ? items : [])
      .map((item) => absoluteUrl(item && item.url, baseUrl))
      .filter(Boolean);
    this.slides = urls.map((url, i) => this.createSlide(url, i, urls.length));
    this.slidesEl.replaceChildren(...this.slides);
    this.dots = urls.length > 1 && urls.length <= MAX_DOTS ? urls.map((_, i) => this.createDot(i, urls.length)) : [];
    this.dotsEl.replaceChildren(...this.dots);
    this.index = 0;
    if (urls.length === 0) {
      this.showEmpty('No images yet', 'Images added to the bucket’s images/ folder appear here.');
    }
    this.update();
  }

  // unavailable shows a calm empty state; the page's error area says why.
  unavailable() {
    this.slides = [];
    this.dots = [];
    this.slidesEl.replaceChildren();
    this.dotsEl.replaceChildren();
    this.showEmpty('Images are unavailable', 'They will appear once the API answers.');
    this.update();
  }

  showEmpty(title, text) {
    this.emptyTitle.textContent = title;
    this.emptyText.textContent = text;
  }

  createSlide(url, i, count) {
    const li = document.createElement('li');
    li.className = 'slide is-loading';
    li.setAttribute('role', 'group');
    li.setAttribute('aria-roledescription', 'slide');
    li.setAttribute('aria-label', `${i + 1} of ${count}`);
    const name = imageName(url);
    const img = document.createElement('img');
    img.alt = name ? `Gallery image: ${name}` : `Gallery image ${i + 1} of ${count}`;
    img.decoding = 'async';
    img.referrerPolicy = 'no-referrer';
    img.addEventListener('load', () => li.classList.remove('is-loading'));
    img.addEventListener('error', () => {
      li.classList.remove('is-loading');
      li.classList.add('is-broken');
    });
    img.src = url;
    const caption = document.createElement('p');
    caption.className = 'slide-caption';
    caption.textContent = name || `Image ${i + 1}`;
    const broken = document.createElement('p');
    broken.className = 'slide-broken';
    broken.textContent = 'This image could not be loaded.';
    li.append(img, caption, broken);
    return li;
  }

  createDot(i, count) {
    const dot = document.createElement('button');
    dot.type = 'button';
    dot.className = 'dot';
    dot.setAttribute('aria-label', `Show image ${i + 1} of ${count}`);
    dot.addEventListener('click', () => this.go(i));
    return dot;
  }

  go(index) {
    const count = this.slides.length;
    if (count === 0) return;
    this.index = ((index % count) + count) % count;
    this.update();
  }

  setPlaying(playing) {
    this.playing = playing;
    this.update();
  }

  update() {
    const count = this.slides.length;
    this.empty.hidden = count > 0;
    this.controls.hidden = count < 2;
    this.counter.hidden = count === 0;
    this.counter.textContent = count ? `${this.index + 1} / ${count}` : '';
    this.slides.forEach((slide, i) => {
      const active = i === this.index;
      slide.classList.toggle('is-active', active);
      slide.inert = !active;
      slide.setAttribute('aria-hidden', String(!active));
    });
    this.dots.forEach((dot, i) => {
      if (i === this.index) dot.setAttribute('aria-current', 'true');
      else dot.removeAttribute('aria-current');
    });
    this.root.classList.toggle('is-playing', this.playing);
    this.playButton.setAttribute('aria-label', this.playing ? 'Pause the slide show' : 'Play the slide show');
    this.schedule();
  }

  // schedule (re)starts the advance timer when, and only when, it should run.
  schedule() {
    clearTimeout(this.timer);
    const running = this.playing && !this.hovered && !this.focused && !document.hidden && this.slides.length > 1;
    // Announce slide changes only when a person caused them.
    this.slidesEl.setAttribute('aria-live', running ? 'off' : 'polite');
    if (running) {
      this.timer = setTimeout(() => this.go(this.index + 1), ADVANCE_MS);
    }
  }

  onKey(event) {
    if (event.target.closest('input, textarea')) return;
    if (event.key === 'ArrowLeft') this.go(this.index - 1);
    else if (event.key === 'ArrowRight') this.go(this.index + 1);
    else return;
    event.preventDefault();
  }
}

// absoluteUrl accepts http(s) URLs only, so a list cannot smuggle in other schemes.
function absoluteUrl(raw, baseUrl) {
  if (typeof raw !== 'string' || raw.trim() === '') return '';
  try {
    const url = new URL(raw.trim(), `${baseUrl}/`);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : '';
  } catch {
    return '';
  }
}

// imageName makes "summer-beach_2.jpg" into "summer beach 2" for alt text.
function imageName(url) {
  try {
    const last = new URL(url).pathname.split('/').filter(Boolean).pop() || '';
    return decodeURIComponent(last).replace(/\.[a-z0-9]{2,5}$/i, '').replace(/[-_+]+/g, ' ').trim();
  } catch {
    return '';
  }
}
