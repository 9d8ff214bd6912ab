// The page the main area shows, the way back, and the search box kept in step
// with both: a results page holds its query, so going back to it brings the
// query back, and leaving it empties the box.

import { HOME, navigate, sectionOf, type NavAction, type Route, type Section } from './routes';

/** The search box's state, as navigation needs it; the library's in the app, a fake in tests. */
export interface SearchField {
  readonly query: string;
  setQuery(text: string): void;
  clearQuery(): void;
}

export class Nav {
  #history = $state.raw<Route[]>([HOME]);
  /** Scroll positions of the pages in the history, so going back lands where the user was. */
  #scroll = new WeakMap<Route, number>();
  readonly #field: SearchField;

  constructor(field: SearchField) {
    this.#field = field;
  }

  /** The page shown. */
  readonly current: Route = $derived(this.#history[this.#history.length - 1] ?? HOME);
  readonly canGoBack: boolean = $derived(this.#history.length > 1);
  /** The sidebar entry to highlight. */
  readonly section: Section | null = $derived(sectionOf(this.current));

  /** Opens a page (and leaves a search, keeping it in the history). */
  go(route: Route): void {
    this.#apply({ type: 'go', route });
  }

  back(): void {
    this.#apply({ type: 'back' });
  }

  /** The user typed `text` into the search box. */
  search(text: string): void {
    this.#field.setQuery(text);
    this.#apply({ type: 'search', query: text });
  }

  /** Where `route` was scrolled to when the user left it; 0 for a new page. */
  savedScroll(route: Route): number {
    return this.#scroll.get(route) ?? 0;
  }

  saveScroll(route: Route, top: number): void {
    this.#scroll.set(route, top);
  }

  #apply(action: NavAction): void {
    this.#history = navigate(this.#history, action);
    const route = this.current;
    if (route.view === 'search') {
      if (this.#field.query !== route.query) this.#field.setQuery(route.query);
    } else if (this.#field.query !== '') {
      this.#field.clearQuery();
    }
  }
}
