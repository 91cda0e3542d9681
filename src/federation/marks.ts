import type { ProviderKind } from '../config/federation-environment.js';

/** A provider's mark on buttons: a letter on its colour, drawn the same way for every provider. */
export interface Mark {
  letter: string;
  /** Background; the letter is white on it, with a contrast of at least 4.5:1. */
  colour: string;
}

const MARKS: Record<Exclude<ProviderKind, 'oidc'>, Mark> = {
  google: { letter: 'G', colour: '#1a5dc8' },
  apple: { letter: 'A', colour: '#000000' },
  office365: { letter: 'O', colour: '#b7410e' },
  liveid: { letter: 'M', colour: '#0b5cad' },
  facebook: { letter: 'f', colour: '#1465cf' },
  twitter: { letter: 'X', colour: '#14171a' },
};

const GENERIC: Omit<Mark, 'letter'> = { colour: '#4b5563' };

export function markFor(kind: ProviderKind, displayName: string): Mark {
  return kind === 'oidc' ? { ...GENERIC, letter: (displayName.trim().charAt(0) || '?').toUpperCase() } : MARKS[kind];
}
