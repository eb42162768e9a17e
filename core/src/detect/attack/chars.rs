//! Which bytes a value holds, as bits: one pass over the value decides which checks run.

pub const QUOTE: u32 = 1; // ' " `
pub const PAREN: u32 = 2; // ( )
pub const COMPARE: u32 = 4; // = < >
pub const ANGLE: u32 = 8; // < >
pub const SHELL: u32 = 16; // ; | & $ { } \n \r
pub const SLASH: u32 = 32; // / \\
pub const COLON: u32 = 64;
pub const BRACKET: u32 = 128; // [ ]
pub const DOLLAR: u32 = 256;
pub const BRACE: u32 = 512;
pub const STAR: u32 = 1024;
pub const NEWLINE: u32 = 2048;
pub const PERCENT: u32 = 4096; // % (after decoding: literal percent, e.g. `<%`)
pub const AMP: u32 = 8192;
pub const COMMENT: u32 = 16384; // # -- * ! (SQL comments and operators)
pub const QUESTION: u32 = 32768;
pub const SPACE: u32 = 65536;
pub const PLUS: u32 = 131072;
pub const PIPE: u32 = 262144;
pub const DOT: u32 = 524288;
pub const SEMI: u32 = 1048576;
pub const BACKTICK: u32 = 2097152;
pub const HEX: u32 = 4194304; // a `0x` literal
pub const AT: u32 = 8388608; // @ (SQL variables, and every email address)
pub const CONTROL: u32 = 16777216; // other control bytes, and bytes past ASCII

pub(super) fn char_mask(b: &[u8]) -> u32 {
    let mut mask = 0;
    let mut prev = 0;
    for &c in b {
        mask |= byte_class(c) | pair_class(prev, c);
        prev = c;
    }
    mask
}

/// The classes one byte sets, as a table: `char_mask` and `keywords_and_mask` read every byte of
/// every value through it.
static BYTE_CLASSES: [u32; 256] = {
    let mut table = [0; 256];
    let mut c = 0;
    while c < 256 {
        table[c] = single_byte_class(c as u8);
        c += 1;
    }
    table
};

pub(super) fn byte_class(c: u8) -> u32 {
    BYTE_CLASSES[usize::from(c)]
}

/// The classes two bytes set together: `--` (a lone dash is in SKUs, dates and UUIDs; SQL needs
/// two for a comment) and a `0x` literal.
pub(super) fn pair_class(prev: u8, c: u8) -> u32 {
    (u32::from(prev == b'-' && c == b'-') * COMMENT) | (u32::from(prev == b'0' && c == b'x') * HEX)
}

pub(super) const fn single_byte_class(c: u8) -> u32 {
    match c {
        b'\'' | b'"' => QUOTE,
        b'`' => QUOTE | BACKTICK | SHELL,
        b'(' | b')' => PAREN,
        b'=' => COMPARE,
        b'<' | b'>' => COMPARE | ANGLE,
        b';' => SHELL | SEMI,
        b'|' => SHELL | PIPE,
        b'&' => SHELL | AMP,
        b'$' => SHELL | DOLLAR,
        b'{' | b'}' => SHELL | BRACE,
        b'\n' | b'\r' => SHELL | NEWLINE,
        b'/' | b'\\' => SLASH,
        b':' => COLON,
        b'[' | b']' => BRACKET,
        b'*' => STAR | COMMENT,
        b'%' => PERCENT,
        b'#' | b'!' => COMMENT,
        b'@' => AT,
        b'?' => QUESTION,
        b' ' | b'\t' => SPACE,
        b'+' => PLUS,
        b'.' => DOT,
        0..=0x1f | 0x80..=0xff => CONTROL,
        _ => 0,
    }
}
