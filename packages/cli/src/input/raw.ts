/**
 * One record cut from the input before parsing: its text, or why no text could be cut.
 * `line` is where it starts in its (decompressed) file, counting from 1.
 */
export type RawItem = { line: number; text: string } | { line: number; problem: string };
