;; Sorting 100,000 pseudo-random integers with the library sort and a hand-written merge sort (peer of programs/sort.menai).
(define modulus 2147483647)
(define rounds 5)
(define n 100000)

(define (random-list seed)
  (let loop ((i 1) (x seed) (acc '()))
    (if (> i n)
        (reverse acc)
        (let ((x (modulo (* x 48271) modulus)))
          (loop (+ i 1) x (cons x acc))))))

(define (merge a b acc)
  (cond ((null? a) (append (reverse acc) b))
        ((null? b) (append (reverse acc) a))
        (else
         (let ((x (car a))
               (y (car b)))
           (if (< y x)
               (merge a (cdr b) (cons y acc))
               (merge (cdr a) b (cons x acc)))))))

;; top-down merge sort of the list xs of length len
(define (msort xs len)
  (if (<= len 1)
      xs
      (let ((h (quotient len 2)))
        (merge (msort (list-head xs h) h)
               (msort (list-tail xs h) (- len h))
               '()))))

(define (checksum xs)
  (let loop ((xs xs) (i 1) (s 0))
    (if (null? xs)
        s
        (loop (cdr xs) (+ i 1)
              (modulo (+ s (* (modulo (car xs) 1000) (+ (modulo i 1000) 1))) 1000003)))))

(define (loop round acc)
  (if (> round rounds)
      acc
      (let* ((xs (random-list round))
             (a (sort < xs))
             (b (msort xs n)))
        (loop (+ round 1)
              (modulo (+ (* acc 31) (checksum a) (* 7 (checksum b))) 1000003)))))

(display (loop 1 0))
(newline)
