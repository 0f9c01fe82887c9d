//! The macros that write and read an enum's names, a struct's fields and the table of
//! bodies, each in the one canonical layout.

/// Unit enums written as their snake_case names.
macro_rules! canon_names {
    ($t:ident { $($v:ident => $name:literal),* $(,)? }) => {
        impl Canon for $t {
            fn put(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(match self { $($t::$v => concat!("\"", $name, "\"").as_bytes()),* });
            }
            fn take(r: &mut Reader<'_>) -> Option<Self> {
                match r.plain_str()? { $($name => Some($t::$v),)* _ => None }
            }
            fn put_bin(&self, out: &mut Vec<u8>) {
                const NAMES: &[&str] = &[$($name),*];
                out.push(match self { $($t::$v => const { place(NAMES, $name) }),* });
            }
            fn take_bin(r: &mut Bin<'_>) -> Option<Self> {
                const NAMES: &[&str] = &[$($name),*];
                let b = r.byte()?;
                $(if b == const { place(NAMES, $name) } {
                    return Some($t::$v);
                })*
                None
            }
        }
    };
}
/// An object's fields, in the order declared (which must be sorted: the tests check it
/// against serde's sorted output).
macro_rules! canon_struct {
    ($t:ident { $($f:ident $(: $omit:ident)?),* }) => {
        impl Canon for $t {
            fn put(&self, out: &mut Vec<u8>) {
                let $t { $($f),* } = self;
                out.push(b'{');
                $(put_field!(out, $f $(, $omit)?);)*
                out.push(b'}');
            }
            fn take(r: &mut Reader<'_>) -> Option<Self> {
                r.lit(b"{")?;
                let mut first = true;
                $(let $f = take_field!(r, first, $f $(, $omit)?);)*
                let _ = first;
                r.lit(b"}")?;
                Some($t { $($f),* })
            }
            fn put_bin(&self, out: &mut Vec<u8>) {
                let $t { $($f),* } = self;
                $($f.put_bin(out);)*
            }
            fn take_bin(r: &mut Bin<'_>) -> Option<Self> {
                $(let $f = Canon::take_bin(r)?;)*
                Some($t { $($f),* })
            }
        }
    };
}

/// One field of an object: its key (after a comma unless it is the first) and value. A field
/// marked `omit` (an optional field born at a later schema version) is left out, key and all,
/// when absent, so an event without it keeps the bytes it had before the field was born.
macro_rules! put_field {
    ($out:ident, $f:ident) => {
        if $out.last() != Some(&b'{') {
            $out.push(b',');
        }
        $out.extend_from_slice(concat!("\"", stringify!($f), "\":").as_bytes());
        $f.put($out);
    };
    ($out:ident, $f:ident, omit) => {
        if let Some(value) = $f {
            if $out.last() != Some(&b'{') {
                $out.push(b',');
            }
            $out.extend_from_slice(concat!("\"", stringify!($f), "\":").as_bytes());
            value.put($out);
        }
    };
}

/// Reads one field written by [`put_field`]: `None` (for the whole object) if the bytes differ;
/// an `omit` field absent is `None` as a value.
macro_rules! take_field {
    ($r:ident, $first:ident, $f:ident) => {{
        if !$first {
            $r.lit(b",")?;
        }
        $first = false;
        $r.lit(concat!("\"", stringify!($f), "\":").as_bytes())?;
        Canon::take($r)?
    }};
    ($r:ident, $first:ident, $f:ident, omit) => {{
        let present = if $first {
            $r.eat(concat!("\"", stringify!($f), "\":").as_bytes())
        } else {
            $r.eat(concat!(",\"", stringify!($f), "\":").as_bytes())
        };
        if present {
            $first = false;
            Some(Canon::take($r)?)
        } else {
            None
        }
    }};
}

/// Every body but `policy_published` (its policy is free-form JSON, left to serde): the
/// variant (and its struct), its type name and its fields in sorted order.
macro_rules! canon_bodies {
    ($($v:ident $name:literal { $($f:ident $(: $omit:ident)?),* }),* $(,)?) => {
        $(canon_struct!($v { $($f $(: $omit)?),* });)*

        /// Appends the body's `data` object; false for a body left to serde.
        pub(super) fn put_data(body: &EventBody, out: &mut Vec<u8>) -> bool {
            match body {
                $(EventBody::$v(data) => {
                    data.put(out);
                    true
                })*
                _ => false,
            }
        }

        /// Reads the `data` object of a body of this type.
        pub(super) fn take_data(kind: &str, r: &mut Reader<'_>) -> Option<EventBody> {
            match kind {
                $($name => Some(EventBody::$v(Canon::take(r)?)),)*
                _ => None,
            }
        }

        /// The types of body with a binary form, a body's byte its place here.
        const BODIES: &[&str] = &[$($name),*];

        /// Appends the body's binary form (its place in the table, then its fields); false
        /// for a body that has none.
        pub(super) fn put_bin_data(body: &EventBody, out: &mut Vec<u8>) -> bool {
            match body {
                $(EventBody::$v(data) => {
                    out.push(const { place(BODIES, $name) });
                    data.put_bin(out);
                    true
                })*
                _ => false,
            }
        }

        /// Reads a body's binary form.
        pub(super) fn take_bin_data(r: &mut Bin<'_>) -> Option<EventBody> {
            let b = r.byte()?;
            $(if b == const { place(BODIES, $name) } {
                return Some(EventBody::$v(Canon::take_bin(r)?));
            })*
            None
        }
    };
}
