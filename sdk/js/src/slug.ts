/**
 * The channel slug rule of `@pushflodev/sdk`: 1–128 characters of `a-z`,
 * `0-9` and `-`, no hyphen first, last or doubled. The hosted SDK refuses
 * any other channel name; pushflo's SDK and server accept every name the
 * protocol allows (1–128 of `a-z A-Z 0-9 - _ : . @ = ,`), so these helpers
 * are only needed by apps that must also run against the hosted service.
 */

/** MAX_SLUG_LENGTH is the longest slug, in characters. */
export const MAX_SLUG_LENGTH = 128;

/** MIN_SLUG_LENGTH is the shortest slug, in characters. */
export const MIN_SLUG_LENGTH = 1;

/** SlugValidationResult says whether a slug is valid, what is wrong and a valid suggestion. */
export interface SlugValidationResult {
  valid: boolean;
  error?: string;
  suggestion?: string;
}

const slugPattern = /^[a-z0-9]+(-[a-z0-9]+)*$/;

/** isValidChannelSlug reports whether `slug` follows the slug rule. */
export function isValidChannelSlug(slug: string): boolean {
  return typeof slug === 'string' && slug.length >= MIN_SLUG_LENGTH && slug.length <= MAX_SLUG_LENGTH && slugPattern.test(slug);
}

/**
 * toChannelSlug turns any string into a valid slug: lower case, every run
 * of other characters becomes one hyphen, no hyphen at either end, at most
 * 128 characters. `toChannelSlug('user:123:messages')` is `user-123-messages`.
 */
export function toChannelSlug(str: string): string {
  const words = str.toLowerCase().split(/[^a-z0-9]+/).filter((w) => w !== '');
  return words.join('-').slice(0, MAX_SLUG_LENGTH).replace(/-+$/, '');
}

/** validateChannelSlug says what is wrong with a slug (the first problem found) and suggests a valid one. */
export function validateChannelSlug(slug: string): SlugValidationResult {
  if (typeof slug !== 'string' || slug === '') return { valid: false, error: 'Channel slug is required' };
  const fail = (error: string): SlugValidationResult => ({ valid: false, error, suggestion: toChannelSlug(slug) });
  if (slug.length > MAX_SLUG_LENGTH) return fail(`Channel slug cannot exceed ${MAX_SLUG_LENGTH} characters (got ${slug.length})`);
  if (slug !== slug.toLowerCase()) return fail('Channel slug must be lowercase');
  if (slug.startsWith('-')) return fail('Channel slug cannot start with a hyphen');
  if (slug.endsWith('-')) return fail('Channel slug cannot end with a hyphen');
  if (slug.includes('--')) return fail('Channel slug cannot contain consecutive hyphens');
  const bad = [...new Set(slug.match(/[^a-z0-9-]/g) ?? [])];
  if (bad.length > 0) {
    return fail(`Channel slug contains invalid characters: ${bad.join(', ')}. Only lowercase letters, numbers, and hyphens are allowed.`);
  }
  return { valid: true };
}
