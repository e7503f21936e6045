;; Mandelbrot set membership on a grid: float arithmetic in a tight loop (peer of programs/mandelbrot.menai).
(define size 1000)
(define max-iter 200)
(define step (/ 2.5 (exact->inexact size)))

;; 1 if c = cr + ci*i stays bounded for max-iter iterations, else 0
(define (in-set cr ci)
  (let loop ((zr 0.0) (zi 0.0) (k 0))
    (if (= k max-iter)
        1
        (let ((zr2 (* zr zr))
              (zi2 (* zi zi)))
          (if (> (+ zr2 zi2) 4.0)
              0
              (loop (+ (- zr2 zi2) cr)
                    (+ (* (* 2.0 zr) zi) ci)
                    (+ k 1)))))))

(define (count-points)
  (let rows ((y 0) (count 0))
    (if (= y size)
        count
        (let ((ci (+ -1.25 (* (exact->inexact y) step))))
          (let row ((x 0) (count count))
            (if (= x size)
                (rows (+ y 1) count)
                (row (+ x 1)
                     (+ count (in-set (+ -2.0 (* (exact->inexact x) step)) ci)))))))))

(display (count-points))
(newline)
