;; Tail-recursive sum of 1..70,000,000 (peer of programs/loop.menai).
(define (loop i acc)
  (if (> i 70000000)
      acc
      (loop (+ i 1) (+ acc i))))
(display (loop 1 0))
(newline)
