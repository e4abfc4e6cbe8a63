import { readFile } from 'node:fs/promises';
import type { ZxcvbnFactory } from '@zxcvbn-ts/core';

/** NIST 800-63B wants at least 64 allowed; the cap stops huge inputs from burning hashing time (D2). */
export const MAX_PASSWORD_LENGTH = 128;

// Only a prefix and a few l33t variants are estimated: a crafted password cannot buy 100+ ms of CPU (D2).
const ESTIMATOR_LIMITS = { maxLength: 64, l33tMaxSubstitutions: 4 } as const;

/** Unicode passwords are compared in NFKC form, so visually equal input hashes equally (NIST 800-63B). */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

export interface PasswordRejection {
  code: 'too_short' | 'too_long' | 'common' | 'weak' | 'personal_info';
  message: string;
}

/** What the account already tells an attacker: its e-mail address and display name. */
export interface PasswordOwner {
  email: string;
  displayName: string;
}

export interface PasswordPolicy {
  check(password: string, owner: PasswordOwner): Promise<PasswordRejection | undefined>;
}

interface Estimator {
  zxcvbn: ZxcvbnFactory;
  commonPasswords: ReadonlySet<string>;
}

// Built on first use, once per process: the dictionaries take ~0.2 s to load and stay out of cold start.
let estimator: Promise<Estimator> | undefined;

async function buildEstimator(): Promise<Estimator> {
  const [{ ZxcvbnFactory }, common, en, list] = await Promise.all([
    import('@zxcvbn-ts/core'),
    import('@zxcvbn-ts/language-common'),
    import('@zxcvbn-ts/language-en'),
    // eslint-disable-next-line security/detect-non-literal-fs-filename -- a constant path inside this package
    readFile(new URL('./common-passwords.txt', import.meta.url), 'utf8'),
  ]);
  const zxcvbn = new ZxcvbnFactory({
    ...ESTIMATOR_LIMITS,
    translations: en.translations,
    graphs: common.adjacencyGraphs,
    dictionary: { ...common.dictionary, ...en.dictionary },
  });
  // Common and breached passwords, lower-cased: the first guesses of any attacker are refused (D2).
  const commonPasswords = new Set(
    list
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== ''),
  );
  return { zxcvbn, commonPasswords };
}

function loadEstimator(): Promise<Estimator> {
  estimator ??= buildEstimator().catch((err: unknown) => {
    estimator = undefined;
    throw err;
  });
  return estimator;
}

/** The address, its local part and the words of both it and the display name, as the estimator's user inputs. */
function personalWords({ email, displayName }: PasswordOwner): string[] {
  const address = normalizePassword(email).toLowerCase();
  const name = normalizePassword(displayName).toLowerCase();
  const local = address.split('@', 1)[0] ?? '';
  const pieces = [...local.split(/[^\p{L}\p{N}]+/u), ...name.split(/[^\p{L}\p{N}]+/u)].filter((piece) => piece.length >= 3);
  return [...new Set([address, local, name, name.replace(/[^\p{L}\p{N}]+/gu, ''), ...pieces])].filter((word) => word !== '');
}

/**
 * NIST 800-63B: a length window, a blocklist, and a strength estimate that refuses walks, repeats,
 * sequences, dictionary words with small changes and the owner's own e-mail or name; no composition rules (D2).
 */
export function createPasswordPolicy(options: { minLength: number; minScore: number }): PasswordPolicy {
  const { minLength, minScore } = options;
  return {
    async check(password, owner) {
      const normalized = normalizePassword(password);
      // The window counts the password as sent, as the OpenAPI document states it (H3); NFKC can change its length.
      const length = Array.from(password).length;
      if (length < minLength) return { code: 'too_short', message: `must be at least ${minLength} characters long` };
      if (length > MAX_PASSWORD_LENGTH) {
        return { code: 'too_long', message: `must be at most ${MAX_PASSWORD_LENGTH} characters long` };
      }
      const { zxcvbn, commonPasswords } = await loadEstimator();
      if (commonPasswords.has(normalized.toLowerCase())) {
        return { code: 'common', message: 'is a commonly used password: choose another' };
      }
      const words = personalWords(owner);
      const result = zxcvbn.check(normalized, words);
      // A personal word found in another dictionary first (e.g. "password" in a name) still counts as personal.
      const personal = result.sequence.filter(
        (match) => match.pattern === 'dictionary' && (match.dictionaryName === 'userInputs' || words.includes(String(match.matchedWord))),
      );
      // zxcvbn floors any three-part password at score 3, so "name-name" needs the coverage rule too (D2).
      const personalShare = personal.reduce((sum, match) => sum + match.token.length, 0) / result.password.length;
      if (personal.length > 0 && (result.score < minScore || personalShare >= 0.5)) {
        return { code: 'personal_info', message: 'must not be built from your e-mail address or name' };
      }
      if (result.score >= minScore) return undefined;
      return { code: 'weak', message: result.feedback.warning ?? 'is too easy to guess: add a few uncommon words' };
    },
  };
}
