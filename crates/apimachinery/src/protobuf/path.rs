//! The JSON path of the field being decoded or encoded, kept as a stack so that errors can
//! name it (`spec.containers[0].ports[1].containerPort`, `metadata.labels[app]`).

use std::fmt;

/// One step of a [`FieldPath`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// A member named by the schema.
    Field(&'static str),
    /// A member named by the input (an unknown JSON member).
    Member(String),
    /// An element of a repeated field.
    Index(usize),
    /// A value of a map field.
    Key(String),
}

/// Stack of [`Segment`]s, pushed on the way into a field and popped on the way out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldPath {
    segments: Vec<Segment>,
}

impl FieldPath {
    /// Enters a segment.
    pub fn push(&mut self, segment: Segment) {
        self.segments.push(segment);
    }

    /// Leaves the innermost segment.
    pub fn pop(&mut self) {
        self.segments.pop();
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.segments.is_empty() {
            return f.write_str("<root>");
        }
        for (position, segment) in self.segments.iter().enumerate() {
            match segment {
                Segment::Field(name) if position == 0 => f.write_str(name)?,
                Segment::Member(name) if position == 0 => f.write_str(name)?,
                Segment::Field(name) => write!(f, ".{name}")?,
                Segment::Member(name) => write!(f, ".{name}")?,
                Segment::Index(index) => write!(f, "[{index}]")?,
                Segment::Key(key) => write!(f, "[{key}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_joins_segments() {
        let mut path = FieldPath::default();
        assert_eq!(path.to_string(), "<root>");

        path.push(Segment::Field("spec"));
        path.push(Segment::Field("containers"));
        path.push(Segment::Index(0));
        path.push(Segment::Member("foo".to_string()));
        assert_eq!(path.to_string(), "spec.containers[0].foo");

        path.pop();
        path.pop();
        path.pop();
        path.pop();
        path.push(Segment::Field("metadata"));
        path.push(Segment::Field("labels"));
        path.push(Segment::Key("app".to_string()));
        assert_eq!(path.to_string(), "metadata.labels[app]");
    }
}
