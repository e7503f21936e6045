;; map/filter/fold pipelines over 100,000-element lists, repeated (peer of programs/hof.menai).
(define rounds 100)
(define xs (iota 100000))

(define (loop r acc)
  (if (> r rounds)
      acc
      (let* ((ys (map (lambda (x) (modulo (+ (* x x) r) 1009)) xs))
             (zs (filter (lambda (y) (not (= (modulo y 3) 0))) ys))
             (ws (map (lambda (z) (+ (* z 2) r)) zs))
             (s (fold-left (lambda (a w) (+ a w)) 0 ws)))
        (loop (+ r 1) (modulo (+ (* acc 31) s (length ws)) 1000003)))))

(display (loop 1 0))
(newline)
