import { CodePanel } from './panel';
import { keys } from './storage';
import type { ShareableServer } from '../../../sandbox-server/src/shapes/requests.ts';

/** <course-playground>: a runnable example (see components/Playground.astro). */
class CoursePlayground extends CodePanel {
  protected get label() {
    return this.dataset.title || 'main.ts';
  }
  protected setup() {
    // per page + playground; the hash of the original code makes a changed sample start fresh
    this.storageKey = keys.playground(location.pathname.replace(/\/$/, '') || '/', `${this.dataset.title}:${this.dataset.hash}`);
    this.exerciseId = this.dataset.exercise || undefined;
    // The component only writes names it accepts (Playground.astro); the server checks them again.
    this.shared = this.dataset.shared ? (this.dataset.shared.split(' ') as ShareableServer[]) : undefined;
  }
}

if (!customElements.get('course-playground')) customElements.define('course-playground', CoursePlayground);
