;; N-queens solution count for sizes 1..12 by backtracking over lists (peer of programs/nqueens.menai).
(define (safe? row dist placed)
  (if (null? placed)
      #t
      (let ((q (car placed)))
        (if (or (= q row) (= q (+ row dist)) (= q (- row dist)))
            #f
            (safe? row (+ dist 1) (cdr placed))))))

(define (solve size col placed)
  (if (= col size)
      1
      (let try-rows ((row 0) (count 0))
        (if (= row size)
            count
            (try-rows (+ row 1)
                      (if (safe? row 1 placed)
                          (+ count (solve size (+ col 1) (cons row placed)))
                          count))))))

(define (all-sizes size total)
  (if (> size 12)
      total
      (all-sizes (+ size 1) (+ total (solve size 0 '())))))

(display (all-sizes 1 0))
(newline)
