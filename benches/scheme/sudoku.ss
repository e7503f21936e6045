;; Backtracking sudoku solver (fewest-candidates cell first) on several hard puzzles (peer of programs/sudoku.menai).
;; The grid is a vector of 9 row vectors, filled in place and restored on
;; backtracking; the used digits of each row, column and box are vectors of
;; booleans rebuilt at every search node.
(define puzzles
  (list
    "4.....8.5.3..........7......2.....6.....8.4......1.......6.3.7.5..2.....1.4......"
    "52...6.........7.13...........4..8..6......5...........418.........3..2...87....."
    "6.....8.3.4.7.................5.4.7.3..2.....1.6.......2.....5.....8.6......1...."
    "8..........36......7..9.2...5...7.......457.....1...3...1....68..85...1..9....4.."
    "85...24..72......9..4.........1.7..23.5...9...4...........8..7..17..........36.4."
    "..53.....8......2..7..1.5..4....53...1..7...6..32...8..6.5....9..4....3......97.."
    "12..4......5.69.1...9...5.........7.7...52.9..3......2.9.6...5.4..9..8.1..3...9.4"
    "...57..3.1......2.7...234......8...4..7..4...49....6.5.42...3.....7..9....18....."
    "7..1523........92....3.....1....47.8.......6............9...5.6.4.9.7...8....6.1."
    "1....7.9..3..2...8..96..5....53..9...1..8...26....4...3......1..4......7..7...3.."
    "1...34.8....8..5....4.6..21.18......3..1.2..6......81.52..7.9....6..9....9.64...2"))

(define (parse s)
  (let ((grid (make-vector 9)))
    (do ((r 0 (+ r 1))) ((= r 9) grid)
      (let ((row (make-vector 9 0)))
        (do ((c 0 (+ c 1))) ((= c 9))
          (let ((ch (string-ref s (+ (* r 9) c))))
            (vector-set! row c (if (char=? ch #\.) 0 (- (char->integer ch) 48)))))
        (vector-set! grid r row)))))

(define (box-index r c) (+ (* (quotient r 3) 3) (quotient c 3)))

(define (make-used)
  (let ((v (make-vector 9)))
    (do ((i 0 (+ i 1))) ((= i 9) v)
      (vector-set! v i (make-vector 10 #f)))))

(define nodes 0)

;; fills grid in place; #t when solved
(define (solve grid)
  (set! nodes (+ nodes 1))
  (let ((rs (make-used)) (cs (make-used)) (bs (make-used)))
    (do ((r 0 (+ r 1))) ((= r 9))
      (let ((row (vector-ref grid r)))
        (do ((c 0 (+ c 1))) ((= c 9))
          (let ((v (vector-ref row c)))
            (vector-set! (vector-ref rs r) v #t)
            (vector-set! (vector-ref cs c) v #t)
            (vector-set! (vector-ref bs (box-index r c)) v #t)))))
    ;; the empty cell with the fewest candidates (the first one on ties)
    (let scan ((r 0) (c 0) (best-r #f) (best-c #f) (best-cands '()) (best-len 10))
      (cond
       ((= r 9)
        (or (not best-r)
            (let try ((cands best-cands))
              (cond ((null? cands)
                     (vector-set! (vector-ref grid best-r) best-c 0)
                     #f)
                    (else
                     (vector-set! (vector-ref grid best-r) best-c (car cands))
                     (or (solve grid) (try (cdr cands))))))))
       ((= c 9) (scan (+ r 1) 0 best-r best-c best-cands best-len))
       ((not (= (vector-ref (vector-ref grid r) c) 0))
        (scan r (+ c 1) best-r best-c best-cands best-len))
       (else
        (let ((rused (vector-ref rs r))
              (cused (vector-ref cs c))
              (bused (vector-ref bs (box-index r c))))
          (let collect ((d 9) (cands '()) (n 0))
            (cond ((> d 0)
                   (if (or (vector-ref rused d) (vector-ref cused d) (vector-ref bused d))
                       (collect (- d 1) cands n)
                       (collect (- d 1) (cons d cands) (+ n 1))))
                  ((< n best-len) (scan r (+ c 1) r c cands n))
                  (else (scan r (+ c 1) best-r best-c best-cands best-len))))))))))

(define (grid-sum grid)
  (let loop ((r 0) (c 0) (s 0))
    (cond ((= r 9) s)
          ((= c 9) (loop (+ r 1) 0 s))
          (else (loop r (+ c 1)
                      (+ s (* (vector-ref (vector-ref grid r) c) (+ (* r 9) c 1))))))))

(define (run ps acc)
  (if (null? ps)
      (modulo (+ (* acc 31) nodes) 1000003)
      (let ((grid (parse (car ps))))
        (unless (solve grid) (error 'sudoku "no solution"))
        (run (cdr ps) (modulo (+ (* acc 31) (grid-sum grid)) 1000003)))))

(display (run puzzles 0))
(newline)
