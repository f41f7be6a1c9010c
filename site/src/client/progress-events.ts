/** Fired on document when an import or a reset changed the stored progress (the overview redraws its counts). */
export const PROGRESS_CHANGED = 'course-progress-changed';
