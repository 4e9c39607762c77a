/// A list that keeps its first element inline and the others in an array: a user's short
/// lists (day counters, task progress, week scores) mostly hold one element, and an array of
/// one costs a heap block (a 32-byte header, the element and the allocator's own bytes; about
/// 100 MB over three such lists at a million users) where inline it costs the element.
struct InlineFirstList<Element>: RandomAccessCollection, MutableCollection, RangeReplaceableCollection {
    /// The first element; nil only when the list is empty.
    private var head: Element?
    /// The elements after the first.
    private var tail: [Element] = []

    /// An empty list.
    init() {}

    /// A list of `elements`, in order.
    init<S: Sequence>(_ elements: S) where S.Element == Element {
        var iterator = elements.makeIterator()
        head = iterator.next()
        if head != nil { tail = Array(IteratorSequence(iterator)) }
    }

    var startIndex: Int { 0 }
    var endIndex: Int { head == nil ? 0 : 1 + tail.count }

    subscript(position: Int) -> Element {
        get {
            precondition(position >= 0 && position < endIndex, "index \(position) out of range")
            return position == 0 ? head! : tail[position - 1]
        }
        set {
            precondition(position >= 0 && position < endIndex, "index \(position) out of range")
            if position == 0 { head = newValue } else { tail[position - 1] = newValue }
        }
    }

    mutating func append(_ element: Element) {
        if head == nil { head = element } else { tail.append(element) }
    }

    mutating func replaceSubrange<C: Collection>(_ subrange: Range<Int>, with newElements: C) where C.Element == Element {
        var all = Array(self)
        all.replaceSubrange(subrange, with: newElements)
        self = Self(all)
    }
}

extension InlineFirstList: Sendable where Element: Sendable {}
