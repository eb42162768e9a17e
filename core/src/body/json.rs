//! The JSON parser under the body walk, written for it: it hands each scalar to the walk's
//! state as it passes and keeps nothing else.
//!
//! Why not serde_json, which walked bodies before: driving its parser through a visitor (a
//! `deserialize_any` dispatch, a key seed and a map access per field) cost a fifth more than
//! this does: the walk of the 16 KiB customer-records body of the `scan/*` benchmarks took
//! 423k instructions with serde_json and takes 335k, the 1 KiB order 30.8k and 25.0k, and the
//! whole scan of that body as a response 8% fewer (BENCHMARKS.md). The filter pays it in Envoy
//! on every JSON request and response. Strings without escapes are borrowed from the body, read
//! eight bytes at a time; escaped ones are decoded into one reused buffer; numbers are parsed
//! only when the sink wants them.
//!
//! It accepts and rejects what serde_json accepts and rejects, and stops where it stops, so a
//! truncated or invalid body yields the same fields as before: RFC 8259 JSON; control characters
//! in strings, lone surrogates in `\u` escapes, leading zeros and out-of-range numbers are errors;
//! values below `WalkLimits::max_depth` are skipped the way `serde::de::IgnoredAny` skips them
//! (checked for structure, not for surrogates or number range). Numbers reach the sink as
//! serde_json's visitor saw them: integers that fit in `u64`/`i64` as written, others (and `-0`)
//! as the `f64` they parse to, formatted by `ryu`. A test walks bodies with both parsers.

use super::{FieldType, State};

/// serde_json's recursion limit: the 128th container open at once is an error.
const MAX_NESTING: usize = 127;

/// The parse stopped: the body is invalid or ends early. Where does not matter to the walk.
#[derive(Debug)]
pub(super) struct Stop;

type Step<T> = Result<T, Stop>;

pub(super) struct Parser<'b> {
    text: &'b str,
    b: &'b [u8],
    i: usize,
    /// the decoded form of the string being read, when it has escapes
    scratch: String,
    /// containers open right now
    nesting: usize,
}

/// Bytes that end a run of plain string content: the closing quote, a backslash, and the
/// control characters JSON does not allow unescaped.
static STRING_STOP: [bool; 256] = {
    let mut table = [false; 256];
    let mut c = 0;
    while c < 0x20 {
        table[c] = true;
        c += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

/// Whether `ryu` prints the `f64` that a decimal of at most 15 significant digits without an
/// exponent parses to exactly as the decimal is written, so that the parse and the formatting can
/// be skipped: it prints the shortest digits that read back as the same `f64`, which for 15
/// digits or fewer are the decimal's own (trailing zeros aside), in plain notation from 1e-5 up.
fn ryu_writes_as_is(text: &str) -> bool {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let Some((integer, fraction)) = unsigned.split_once('.') else { return false };
    let leading_zeros = fraction.bytes().take_while(|&c| c == b'0').count();
    let small_enough = integer != "0" || leading_zeros <= 4;
    // `1.0` is printed `1.0`, `1.50` is printed `1.5`
    (fraction == "0" || !fraction.ends_with('0')) && small_enough
}

/// The high bit of each byte of `word` (little-endian) that is a quote, a backslash or below
/// 0x20. Bytes above the lowest flagged one may be flagged wrongly (a borrow runs on), the
/// lowest never is: callers read only that one.
fn string_stops(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero_byte = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let quote = zero_byte(word ^ (ONES * u64::from(b'"')));
    let backslash = zero_byte(word ^ (ONES * u64::from(b'\\')));
    let control = word.wrapping_sub(ONES * 0x20) & !word & HIGH;
    quote | backslash | control
}

impl<'b> Parser<'b> {
    pub(super) fn new(text: &'b str) -> Self {
        Parser { text, b: text.as_bytes(), i: 0, scratch: String::new(), nesting: 0 }
    }

    /// The whole body: one value, then only whitespace. True when it is both.
    pub(super) fn document(&mut self, state: &mut State<'_>) -> bool {
        self.value(state, 0).is_ok() && self.peek().is_none()
    }

    fn peek(&mut self) -> Option<u8> {
        while let Some(&c) = self.b.get(self.i) {
            if !matches!(c, b' ' | b'\n' | b'\t' | b'\r') {
                return Some(c);
            }
            self.i += 1;
        }
        None
    }

    /// Consumes `c` after optional whitespace, or stops.
    fn expect(&mut self, c: u8) -> Step<()> {
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(Stop)
        }
    }

    /// A value at the state's current path: scalars go to the sink, containers record their
    /// children. Returns the value's type.
    fn value(&mut self, state: &mut State<'_>, depth: usize) -> Step<FieldType> {
        match self.peek().ok_or(Stop)? {
            b'{' => self.object(state, depth),
            b'[' => self.array(state, depth),
            b'"' => {
                let s = self.string()?;
                state.value(s);
                Ok(FieldType::String)
            }
            b't' => self.literal("true", state, FieldType::Boolean),
            b'f' => self.literal("false", state, FieldType::Boolean),
            b'n' => self.literal("null", state, FieldType::Null),
            b'-' | b'0'..=b'9' => self.number(state),
            _ => Err(Stop),
        }
    }

    fn literal(&mut self, word: &'static str, state: &mut State<'_>, field_type: FieldType) -> Step<FieldType> {
        self.skip_literal(word.as_bytes())?;
        state.value(word);
        Ok(field_type)
    }

    /// Past the `{` or `[` of a container, counting it against the nesting limit.
    fn open(&mut self) -> Step<()> {
        self.nesting += 1;
        self.i += 1;
        if self.nesting > MAX_NESTING {
            return Err(Stop);
        }
        Ok(())
    }

    /// Past the `}` or `]` that `open` was matched with.
    fn close(&mut self) {
        self.i += 1;
        self.nesting -= 1;
    }

    fn object(&mut self, state: &mut State<'_>, depth: usize) -> Step<FieldType> {
        self.open()?;
        let skip = depth + 1 >= state.limits.max_depth;
        let len = state.path.len();
        let key = state.key.clone();
        let mut first = true;
        loop {
            match self.peek() {
                Some(b'}') => break,
                Some(b'"') if first => {}
                Some(b',') if !first => {
                    self.i += 1;
                    if self.peek() != Some(b'"') {
                        return Err(Stop);
                    }
                }
                _ => return Err(Stop),
            }
            first = false;
            // read in full even where the values are skipped, as serde_json reads them
            let k = self.string()?;
            if skip {
                self.expect(b':')?;
                self.skip_value()?;
                continue;
            }
            state.push_key(k);
            let value = self.expect(b':').and_then(|()| self.value(state, depth + 1));
            let field_type = match value {
                Ok(field_type) => field_type,
                Err(stop) => {
                    state.path.truncate(len);
                    return Err(stop);
                }
            };
            state.record(field_type);
            state.path.truncate(len);
        }
        self.close();
        state.key = key;
        Ok(FieldType::Object)
    }

    fn array(&mut self, state: &mut State<'_>, depth: usize) -> Step<FieldType> {
        self.open()?;
        let skip = depth + 1 >= state.limits.max_depth;
        let len = state.path.len();
        if !skip {
            state.path.push_str("[*]");
        }
        let mut first = true;
        loop {
            match self.peek() {
                Some(b']') => break,
                Some(_) if first => {}
                Some(b',') if !first => {
                    self.i += 1;
                    if matches!(self.peek(), Some(b']') | None) {
                        return Err(Stop);
                    }
                }
                _ => return Err(Stop),
            }
            first = false;
            if skip {
                self.skip_value()?;
                continue;
            }
            let item = self.value(state, depth + 1)?;
            state.record(item);
        }
        self.close();
        state.path.truncate(len);
        Ok(FieldType::Array)
    }

    /// A string's content, unescaped: borrowed from the body unless it has escapes.
    fn string(&mut self) -> Step<&str> {
        // at the opening quote
        let start = self.i + 1;
        let end = self.plain_run(start);
        match self.b.get(end) {
            Some(b'"') => {
                self.i = end + 1;
                Ok(self.text.get(start..end).ok_or(Stop)?)
            }
            Some(b'\\') => {
                self.scratch.clear();
                self.scratch.push_str(self.text.get(start..end).ok_or(Stop)?);
                self.i = end;
                self.escaped()?;
                Ok(&self.scratch)
            }
            // a control character, or the end of the body
            _ => Err(Stop),
        }
    }

    /// Where the run of plain string content starting at `from` ends: eight bytes at a time
    /// (most of a body is string content), then byte by byte.
    fn plain_run(&self, from: usize) -> usize {
        let rest = self.b.get(from..).unwrap_or_default();
        let mut chunks = rest.chunks_exact(8);
        let mut offset = 0;
        for chunk in &mut chunks {
            let word = u64::from_le_bytes(chunk.try_into().unwrap_or([b'"'; 8]));
            let stops = string_stops(word);
            if stops != 0 {
                return from + offset + (stops.trailing_zeros() / 8) as usize;
            }
            offset += 8;
        }
        let tail = chunks.remainder();
        from + offset + tail.iter().position(|&c| STRING_STOP[usize::from(c)]).unwrap_or(tail.len())
    }

    /// Decodes the rest of a string from a backslash on into `scratch`.
    fn escaped(&mut self) -> Step<()> {
        loop {
            let c = *self.b.get(self.i + 1).ok_or(Stop)?;
            self.i += 2;
            let decoded = match c {
                b'"' => '"',
                b'\\' => '\\',
                b'/' => '/',
                b'b' => '\u{8}',
                b'f' => '\u{c}',
                b'n' => '\n',
                b'r' => '\r',
                b't' => '\t',
                b'u' => self.unicode_escape()?,
                _ => return Err(Stop),
            };
            self.scratch.push(decoded);
            let start = self.i;
            let end = self.plain_run(start);
            self.scratch.push_str(self.text.get(start..end).ok_or(Stop)?);
            self.i = end;
            match self.b.get(end) {
                Some(b'"') => {
                    self.i += 1;
                    return Ok(());
                }
                Some(b'\\') => {}
                _ => return Err(Stop),
            }
        }
    }

    fn hex4(&mut self) -> Step<u32> {
        let digits = self.b.get(self.i..self.i + 4).ok_or(Stop)?;
        let mut n = 0;
        for &d in digits {
            n = n * 16 + char::from(d).to_digit(16).ok_or(Stop)?;
        }
        self.i += 4;
        Ok(n)
    }

    /// After `\u`: one character, or a surrogate pair written as two escapes.
    fn unicode_escape(&mut self) -> Step<char> {
        let n = self.hex4()?;
        let code = match n {
            0xD800..=0xDBFF => {
                if self.b.get(self.i..self.i + 2) != Some(b"\\u") {
                    return Err(Stop);
                }
                self.i += 2;
                let low = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&low) {
                    return Err(Stop);
                }
                0x10000 + ((n - 0xD800) << 10) + (low - 0xDC00)
            }
            0xDC00..=0xDFFF => return Err(Stop),
            _ => n,
        };
        char::from_u32(code).ok_or(Stop)
    }

    /// A number: its type, and its value to the sink as serde_json's visitor received it.
    fn number(&mut self, state: &mut State<'_>) -> Step<FieldType> {
        let start = self.i;
        let NumberParts { significand, digits, fraction_digits, exponent, end } = self.number_parts(start)?;
        self.i = end;
        let negative = self.b[start] == b'-';
        let text = self.text.get(start..self.i).ok_or(Stop)?;
        // serde_json's integers: a `u64`, or a negative `i64` other than `-0`
        let integer = fraction_digits == 0
            && exponent.is_none()
            && significand.is_some_and(|s| !negative || (s != 0 && s <= 1 << 63));
        if integer {
            // as written: JSON has no leading zeros or plus signs, so it is what `itoa` prints
            state.value(text);
            return Ok(FieldType::Integer);
        }
        // Up to 15 digits scaled by at most 10^22 is one exact `f64` times or divided by an
        // exact power of ten, which serde_json's arithmetic and std's correctly rounded parse
        // agree on. Other numbers go through serde_json itself, whose result can differ from
        // the correct one in the last digit, and which refuses out-of-range ones.
        let scale = i64::from(exponent.unwrap_or(0)) - fraction_digits as i64;
        let plain = digits <= 15 && scale.abs() <= 22;
        if plain && exponent.is_none() && state.has_sink() && ryu_writes_as_is(text) {
            state.value(text);
        } else if state.has_sink() || !plain {
            let value: f64 =
                if plain { text.parse().map_err(|_| Stop)? } else { serde_json::from_str(text).map_err(|_| Stop)? };
            state.value(ryu::Buffer::new().format(value));
        }
        Ok(FieldType::Number)
    }

    /// The digits of a number's integer part from `from`: where they end, and their value if
    /// it fits in a `u64`. One leading zero at most.
    fn integer_part(&self, from: usize) -> Step<(usize, Option<u64>)> {
        match self.b.get(from) {
            Some(b'0') => {
                if self.b.get(from + 1).is_some_and(u8::is_ascii_digit) {
                    return Err(Stop);
                }
                Ok((from + 1, Some(0)))
            }
            Some(b'1'..=b'9') => {
                let mut value = Some(0u64);
                let mut i = from;
                while let Some(&d) = self.b.get(i).filter(|d| d.is_ascii_digit()) {
                    value = value.and_then(|v| v.checked_mul(10)).and_then(|v| v.checked_add(u64::from(d - b'0')));
                    i += 1;
                }
                Ok((i, value))
            }
            _ => Err(Stop),
        }
    }

    /// One or more digits from `from`; where they end.
    fn digits(&self, from: usize) -> Step<usize> {
        let n = self.b.get(from..).unwrap_or_default().iter().take_while(|d| d.is_ascii_digit()).count();
        if n == 0 {
            return Err(Stop);
        }
        Ok(from + n)
    }

    /// Skips one value as `serde::de::IgnoredAny` does: structure checked, escapes checked for
    /// form only (a lone surrogate passes), numbers for grammar only (`1e400` passes).
    fn skip_value(&mut self) -> Step<()> {
        // the containers skipped into, innermost last
        let mut open: Vec<u8> = Vec::new();
        loop {
            // a value
            match self.peek().ok_or(Stop)? {
                c @ (b'[' | b'{') => {
                    self.i += 1;
                    open.push(c);
                    let close = if c == b'[' { b']' } else { b'}' };
                    if self.peek() == Some(close) {
                        self.i += 1;
                        open.pop();
                    } else if c == b'{' {
                        self.skip_key()?;
                        continue;
                    } else {
                        continue;
                    }
                }
                b'"' => self.skip_string()?,
                b't' => self.skip_literal(b"true")?,
                b'f' => self.skip_literal(b"false")?,
                b'n' => self.skip_literal(b"null")?,
                b'-' | b'0'..=b'9' => self.skip_number()?,
                _ => return Err(Stop),
            }
            // after a value: a comma and the next one, or the ends of containers
            loop {
                let Some(&inner) = open.last() else { return Ok(()) };
                match self.peek() {
                    Some(b',') => {
                        self.i += 1;
                        if inner == b'{' {
                            self.skip_key()?;
                        }
                        break;
                    }
                    Some(b']') if inner == b'[' => {}
                    Some(b'}') if inner == b'{' => {}
                    _ => return Err(Stop),
                }
                self.i += 1;
                open.pop();
            }
        }
    }

    /// A key and its colon inside a skipped value (as leniently as a string value).
    fn skip_key(&mut self) -> Step<()> {
        if self.peek() != Some(b'"') {
            return Err(Stop);
        }
        self.skip_string()?;
        self.expect(b':')
    }

    fn skip_literal(&mut self, word: &[u8]) -> Step<()> {
        if !self.b[self.i..].starts_with(word) {
            return Err(Stop);
        }
        self.i += word.len();
        Ok(())
    }

    fn skip_string(&mut self) -> Step<()> {
        let mut i = self.i + 1;
        loop {
            i = self.plain_run(i);
            match self.b.get(i) {
                Some(b'"') => {
                    self.i = i + 1;
                    return Ok(());
                }
                Some(b'\\') => match self.b.get(i + 1) {
                    Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => i += 2,
                    Some(b'u') => {
                        let hex = self.b.get(i + 2..i + 6).ok_or(Stop)?;
                        if !hex.iter().all(u8::is_ascii_hexdigit) {
                            return Err(Stop);
                        }
                        i += 6;
                    }
                    _ => return Err(Stop),
                },
                _ => return Err(Stop),
            }
        }
    }

    fn skip_number(&mut self) -> Step<()> {
        self.i = self.number_parts(self.i)?.end;
        Ok(())
    }

    /// A number's grammar from `start` (its sign or first digit): RFC 8259, one leading zero at
    /// most, at least one digit after a point or an exponent mark.
    fn number_parts(&self, start: usize) -> Step<NumberParts> {
        let integer_start = start + usize::from(self.b[start] == b'-');
        let (mut end, significand) = self.integer_part(integer_start)?;
        let mut fraction_digits = 0;
        if self.b.get(end) == Some(&b'.') {
            let fraction_end = self.digits(end + 1)?;
            fraction_digits = fraction_end - end - 1;
            end = fraction_end;
        }
        let digits = end - integer_start - usize::from(fraction_digits > 0);
        let mut exponent = None;
        if matches!(self.b.get(end), Some(b'e' | b'E')) {
            let sign = usize::from(matches!(self.b.get(end + 1), Some(b'+' | b'-')));
            let exponent_end = self.digits(end + 1 + sign)?;
            // past an `i32` it is out of any fast path anyway
            exponent = self.text.get(end + 1..exponent_end).and_then(|e| e.parse::<i32>().ok()).or(Some(i32::MAX));
            end = exponent_end;
        }
        Ok(NumberParts { significand, digits, fraction_digits, exponent, end })
    }
}

/// What `number_parts` reads of a number.
struct NumberParts {
    /// the integer part, if it fits in a `u64`
    significand: Option<u64>,
    /// digits before the exponent, leading zeros included
    digits: usize,
    fraction_digits: usize,
    exponent: Option<i32>,
    end: usize,
}

#[cfg(test)]
mod tests {
    use super::{ryu_writes_as_is, Parser, STRING_STOP};

    proptest::proptest! {
        /// Eight bytes at a time finds the run's end where a byte at a time does.
        #[test]
        fn plain_run_matches_bytewise(s in "[a\"\\\\\u{1}\u{1f} é~\u{7f}]{0,40}", from in 0usize..8) {
            let parser = Parser::new(&s);
            let from = from.min(s.len());
            let bytewise = from + s.as_bytes()[from..].iter().position(|&c| STRING_STOP[usize::from(c)]).unwrap_or(s.len() - from);
            proptest::prop_assert_eq!(parser.plain_run(from), bytewise);
        }

        /// Where the shortcut says so, `ryu` prints the parsed decimal as written.
        #[test]
        fn decimals_ryu_writes_as_is(negative in proptest::bool::ANY, integer in "0|[1-9][0-9]{0,9}", fraction in "[0-9]{1,6}") {
            let text = format!("{}{integer}.{fraction}", if negative { "-" } else { "" });
            let digits = integer.trim_start_matches('0').len() + fraction.len();
            if ryu_writes_as_is(&text) && digits <= 15 {
                let value: f64 = text.parse().unwrap_or_default();
                let mut buffer = ryu::Buffer::new();
                proptest::prop_assert_eq!(buffer.format(value), text.as_str());
            }
        }
    }
}
