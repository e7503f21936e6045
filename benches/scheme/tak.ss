;; The Takeuchi function (peer of programs/tak.menai).
(define (tak x y z)
  (if (< y x)
      (tak (tak (- x 1) y z)
           (tak (- y 1) z x)
           (tak (- z 1) x y))
      z))
(display (tak 31 22 12))
(newline)
