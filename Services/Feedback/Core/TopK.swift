/// Keeps the `capacity` smallest elements seen, in a binary max-heap: O(log k) per element,
/// for a page of a listing whose candidates are not read in the page's order.
package struct TopK<Element: Comparable> {
    private var heap: [Element] = []
    private let capacity: Int

    package init(capacity: Int) {
        self.capacity = max(capacity, 0)
        heap.reserveCapacity(min(self.capacity, 4096))
    }

    /// Offers one element.
    package mutating func insert(_ element: Element) {
        guard capacity > 0 else { return }
        if heap.count < capacity {
            heap.append(element)
            var child = heap.count - 1
            while child > 0 {
                let parent = (child - 1) / 2
                guard heap[parent] < heap[child] else { break }
                heap.swapAt(parent, child)
                child = parent
            }
        } else if element < heap[0] {
            heap[0] = element
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var largest = parent
                if left < heap.count, heap[largest] < heap[left] { largest = left }
                if right < heap.count, heap[largest] < heap[right] { largest = right }
                if largest == parent { break }
                heap.swapAt(parent, largest)
                parent = largest
            }
        }
    }

    /// The kept elements, ascending.
    package func sorted() -> [Element] { heap.sorted() }
}
