//! Python literal reprs (`str(value)`), as lighteval up to 0.7 wrote every
//! details column: `{'acc': 1.0}`, `['a', "b's"]`, `(-0.5, True)`, `None`.
//! Parsed into JSON values; anything else (a class repr) is an error.

use serde_json::{Map, Number, Value};

/// Parse one Python literal.
pub fn parse(text: &str) -> Result<Value, String> {
    let mut p = Parser {
        b: text.as_bytes(),
        i: 0,
    };
    let v = p.value()?;
    p.ws();
    if p.i != p.b.len() {
        return Err(format!("unexpected text at offset {}", p.i));
    }
    Ok(v)
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.b.len() && self.b[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn value(&mut self) -> Result<Value, String> {
        self.ws();
        match self.b.get(self.i) {
            None => Err("unexpected end".into()),
            Some(b'{') => {
                self.i += 1;
                let mut m = Map::new();
                if self.eat(b'}') {
                    return Ok(Value::Object(m));
                }
                loop {
                    let k = match self.value()? {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    if !self.eat(b':') {
                        return Err(format!("expected ':' at offset {}", self.i));
                    }
                    m.insert(k, self.value()?);
                    if self.eat(b',') {
                        if self.eat(b'}') {
                            return Ok(Value::Object(m));
                        }
                        continue;
                    }
                    if self.eat(b'}') {
                        return Ok(Value::Object(m));
                    }
                    return Err(format!("expected ',' or '}}' at offset {}", self.i));
                }
            }
            Some(&open @ (b'[' | b'(')) => {
                let close = if open == b'[' { b']' } else { b')' };
                self.i += 1;
                let mut a = Vec::new();
                if self.eat(close) {
                    return Ok(Value::Array(a));
                }
                loop {
                    a.push(self.value()?);
                    if self.eat(b',') {
                        if self.eat(close) {
                            return Ok(Value::Array(a));
                        }
                        continue;
                    }
                    if self.eat(close) {
                        return Ok(Value::Array(a));
                    }
                    return Err(format!(
                        "expected ',' or '{}' at offset {}",
                        close as char, self.i
                    ));
                }
            }
            Some(&q @ (b'\'' | b'"')) => self.string(q),
            Some(_) => self.atom(),
        }
    }

    fn string(&mut self, q: u8) -> Result<Value, String> {
        self.i += 1;
        let mut out: Vec<u8> = Vec::new();
        while let Some(&c) = self.b.get(self.i) {
            self.i += 1;
            if c == q {
                return String::from_utf8(out)
                    .map(Value::String)
                    .map_err(|e| e.to_string());
            }
            if c != b'\\' {
                out.push(c);
                continue;
            }
            let e = *self.b.get(self.i).ok_or("unterminated escape")?;
            self.i += 1;
            match e {
                b'n' => out.push(b'\n'),
                b't' => out.push(b'\t'),
                b'r' => out.push(b'\r'),
                b'0' => out.push(0),
                b'x' | b'u' | b'U' => {
                    let n = match e {
                        b'x' => 2,
                        b'u' => 4,
                        _ => 8,
                    };
                    let hex = self.b.get(self.i..self.i + n).ok_or("short escape")?;
                    self.i += n;
                    let code = u32::from_str_radix(std::str::from_utf8(hex).map_err(|e| e.to_string())?, 16)
                        .map_err(|e| e.to_string())?;
                    let ch = char::from_u32(code).ok_or("invalid code point")?;
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                other => out.push(other),
            }
        }
        Err("unterminated string".into())
    }

    fn atom(&mut self) -> Result<Value, String> {
        let start = self.i;
        while self.i < self.b.len() && !b",:)]} \n\t".contains(&self.b[self.i]) {
            self.i += 1;
        }
        let word = std::str::from_utf8(&self.b[start..self.i]).map_err(|e| e.to_string())?;
        Ok(match word {
            "True" => Value::Bool(true),
            "False" => Value::Bool(false),
            "None" | "nan" | "inf" | "-inf" => Value::Null,
            w => {
                if let Ok(n) = w.parse::<i64>() {
                    Value::Number(n.into())
                } else if let Some(n) = w.parse::<f64>().ok().and_then(Number::from_f64) {
                    Value::Number(n)
                } else {
                    return Err(format!("not a Python literal: {w:?}"));
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reprs_of_lighteval_columns() {
        assert_eq!(
            parse("{'acc': 1.0, 'em': 0}").unwrap(),
            json!({"acc": 1.0, "em": 0})
        );
        assert_eq!(
            parse(r#"['It\'s 4', "say \"hi\"\n"]"#).unwrap(),
            json!(["It's 4", "say \"hi\"\n"])
        );
        assert_eq!(
            parse("[(-0.5, True), (-1.25, False)]").unwrap(),
            json!([[-0.5, true], [-1.25, false]])
        );
        assert_eq!(parse("None").unwrap(), Value::Null);
        assert_eq!(parse("[1, 2,]").unwrap(), json!([1, 2]));
        assert!(parse("<object at 0x1>").is_err());
        assert!(parse("{'a': 1").is_err());
    }
}
