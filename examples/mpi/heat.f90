! heat.f90 - a 1-D heat equation in Fortran 2008 (`use mpi_f08`): each rank owns a slab of the rod,
! swaps one ghost cell with each neighbour per step (MPI_Sendrecv, MPI_PROC_NULL at the ends),
! and the heat in the rod is summed with MPI_Allreduce.  Self-checking: the rod's ends are held at
! 0, so the total heat must fall every step, and the result must equal a serial run of the same
! scheme, computed on rank 0 alone.  Prints "heat: PASS" on rank 0 or stops with code 1.
!
!   mpifort -O2 -o heat heat.f90 && mpiexec -n 4 ./heat
program heat
  use mpi_f08
  implicit none
  integer, parameter :: dp = kind(1.0d0), n = 4000, steps = 500
  real(dp), parameter :: alpha = 0.25_dp
  real(dp), allocatable :: u(:), v(:), s(:), t(:)
  real(dp) :: local, total, previous, serial
  integer :: rank, size, lo, hi, m, left, right, step, i
  type(MPI_Status) :: status

  call MPI_Init()
  call MPI_Comm_rank(MPI_COMM_WORLD, rank)
  call MPI_Comm_size(MPI_COMM_WORLD, size)
  ! this rank's cells lo..hi of 1..n, with ghost cells at lo-1 and hi+1
  lo = rank * n / size + 1
  hi = (rank + 1) * n / size
  m = hi - lo + 1
  left = merge(MPI_PROC_NULL, rank - 1, rank == 0)
  right = merge(MPI_PROC_NULL, rank + 1, rank == size - 1)
  allocate(u(lo - 1:hi + 1), v(lo - 1:hi + 1))
  u = 0
  do i = lo, hi
    u(i) = initial(i)
  end do
  previous = huge(1.0_dp)
  do step = 1, steps
    call MPI_Sendrecv(u(lo), 1, MPI_DOUBLE_PRECISION, left, 1, u(hi + 1), 1, &
                      MPI_DOUBLE_PRECISION, right, 1, MPI_COMM_WORLD, status)
    call MPI_Sendrecv(u(hi), 1, MPI_DOUBLE_PRECISION, right, 2, u(lo - 1), 1, &
                      MPI_DOUBLE_PRECISION, left, 2, MPI_COMM_WORLD, status)
    if (rank == 0) u(lo - 1) = 0
    if (rank == size - 1) u(hi + 1) = 0
    do i = lo, hi
      v(i) = u(i) + alpha * (u(i - 1) - 2 * u(i) + u(i + 1))
    end do
    u(lo:hi) = v(lo:hi)
    local = sum(u(lo:hi))
    call MPI_Allreduce(local, total, 1, MPI_DOUBLE_PRECISION, MPI_SUM, MPI_COMM_WORLD)
    if (total >= previous) call fail('the heat in the rod did not fall', total, previous)
    previous = total
  end do

  if (rank == 0) then
    allocate(s(0:n + 1), t(0:n + 1))
    s = 0
    do i = 1, n
      s(i) = initial(i)
    end do
    do step = 1, steps
      do i = 1, n
        t(i) = s(i) + alpha * (s(i - 1) - 2 * s(i) + s(i + 1))
      end do
      s(1:n) = t(1:n)
    end do
    serial = sum(s(1:n))
    if (abs(total - serial) > 1e-9_dp * abs(serial)) call fail('total heat against serial', total, serial)
    print '(a, i0, a, i0, a, es12.5, a)', 'heat: PASS (', size, ' ranks, ', steps, ' steps, heat ', total, ')'
  end if
  call MPI_Finalize()

contains

  pure real(dp) function initial(i)
    integer, intent(in) :: i
    initial = real(mod(i * 7919, 1000), dp) / 1000
  end function initial

  subroutine fail(what, got, want)
    character(*), intent(in) :: what
    real(dp), intent(in) :: got, want
    write (0, '(a, i0, 4a, es22.15, a, es22.15)') 'heat: rank ', rank, ': ', what, ': ', 'got ', got, &
      ', expected ', want
    call MPI_Abort(MPI_COMM_WORLD, 1)
  end subroutine fail
end program heat
