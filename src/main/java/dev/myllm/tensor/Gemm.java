package dev.myllm.tensor;
public final class Gemm {
  public static void matmulNT(float[] a,int ao,float[] b,int bo,float[] c,int co,int M,int N,int K,boolean acc){
    for(int m=0;m<M;m++)for(int n=0;n<N;n++){float s=0;for(int k=0;k<K;k++)s+=a[ao+m*K+k]*b[bo+n*K+k];c[co+m*N+n]=acc?c[co+m*N+n]+s:s;}}
  public static void matmulNN(float[] a,int ao,float[] b,int bo,float[] c,int co,int M,int N,int K,boolean acc){
    for(int m=0;m<M;m++)for(int n=0;n<N;n++){float s=0;for(int k=0;k<K;k++)s+=a[ao+m*K+k]*b[bo+k*N+n];c[co+m*N+n]=acc?c[co+m*N+n]+s:s;}}
  public static void matmulTN(float[] a,int ao,float[] b,int bo,float[] c,int co,int M,int N,int K,boolean acc){
    for(int m=0;m<M;m++)for(int n=0;n<N;n++){float s=0;for(int k=0;k<K;k++)s+=a[ao+k*M+m]*b[bo+k*N+n];c[co+m*N+n]=acc?c[co+m*N+n]+s:s;}}
}
