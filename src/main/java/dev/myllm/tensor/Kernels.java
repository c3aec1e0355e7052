package dev.myllm.tensor;
final class SoftmaxKernel {
  static void softmaxForward(float[] y,float[] x,int N,int C){for(int r=0;r<N;r++){float mx=Float.NEGATIVE_INFINITY;for(int j=0;j<C;j++)mx=Math.max(mx,x[r*C+j]);double s=0;for(int j=0;j<C;j++){y[r*C+j]=(float)Math.exp(x[r*C+j]-mx);s+=y[r*C+j];}for(int j=0;j<C;j++)y[r*C+j]/=s;}}
  static void softmaxBackward(float[] dx,float[] y,float[] dy,int N,int C){for(int r=0;r<N;r++){double d=0;for(int j=0;j<C;j++)d+=dy[r*C+j]*y[r*C+j];for(int j=0;j<C;j++)dx[r*C+j]+=y[r*C+j]*(dy[r*C+j]-d);}}
  static void logSoftmaxForward(float[] y,float[] x,int N,int C){for(int r=0;r<N;r++){float mx=Float.NEGATIVE_INFINITY;for(int j=0;j<C;j++)mx=Math.max(mx,x[r*C+j]);double s=0;for(int j=0;j<C;j++)s+=Math.exp(x[r*C+j]-mx);float l=(float)(mx+Math.log(s));for(int j=0;j<C;j++)y[r*C+j]=x[r*C+j]-l;}}
  static void logSoftmaxBackward(float[] dx,float[] y,float[] dy,int N,int C){for(int r=0;r<N;r++){double d=0;for(int j=0;j<C;j++)d+=dy[r*C+j];for(int j=0;j<C;j++)dx[r*C+j]+=dy[r*C+j]-(float)Math.exp(y[r*C+j])*d;}}
}
final class LayerNormKernel {
  static void forward(float[] out,float[] mean,float[] rstd,float[] x,float[] w,float[] b,int N,int C,float eps){for(int r=0;r<N;r++){double m=0;for(int j=0;j<C;j++)m+=x[r*C+j];m/=C;double v=0;for(int j=0;j<C;j++){double d=x[r*C+j]-m;v+=d*d;}v/=C;float rs=(float)(1/Math.sqrt(v+eps));mean[r]=(float)m;rstd[r]=rs;for(int j=0;j<C;j++)out[r*C+j]=(float)((x[r*C+j]-m)*rs)*w[j]+b[j];}}
  static void backward(float[] dx,float[] dw,float[] db,float[] dout,float[] x,float[] w,float[] mean,float[] rstd,int N,int C){for(int r=0;r<N;r++){double a=0,bb=0;for(int j=0;j<C;j++){float xh=(x[r*C+j]-mean[r])*rstd[r];float g=dout[r*C+j]*w[j];a+=g;bb+=g*xh;if(dw!=null)dw[j]+=dout[r*C+j]*xh;if(db!=null)db[j]+=dout[r*C+j];}a/=C;bb/=C;if(dx!=null)for(int j=0;j<C;j++){float xh=(x[r*C+j]-mean[r])*rstd[r];float g=dout[r*C+j]*w[j];dx[r*C+j]+=(float)((g-a-xh*bb)*rstd[r]);}}}
}
final class GeluKernel {
  static final double S=Math.sqrt(2/Math.PI);
  static void forward(float[] o,float[] x,int n){for(int i=0;i<n;i++){double v=x[i];o[i]=(float)(0.5*v*(1+Math.tanh(S*(v+0.044715*v*v*v))));}}
  static void backward(float[] dx,float[] x,float[] d,int n){for(int i=0;i<n;i++){double v=x[i];double u=S*(v+0.044715*v*v*v);double t=Math.tanh(u);double g=0.5*(1+t)+0.5*v*(1-t*t)*S*(1+3*0.044715*v*v);dx[i]+=(float)(d[i]*g);}}
}
final class AttentionKernel {
  static void forward(float[] out,float[] att,float[] q,float[] k,float[] v,int B,int H,int T,int D,float p,long seed){float sc=(float)(1/Math.sqrt(D));for(int bh=0;bh<B*H;bh++){int o=bh*T*D;for(int i=0;i<T;i++){float mx=Float.NEGATIVE_INFINITY;float[] s=new float[T];for(int j=0;j<=i;j++){float d=0;for(int c=0;c<D;c++)d+=q[o+i*D+c]*k[o+j*D+c];s[j]=d*sc;mx=Math.max(mx,s[j]);}double z=0;for(int j=0;j<=i;j++){s[j]=(float)Math.exp(s[j]-mx);z+=s[j];}for(int j=0;j<T;j++)att[(bh*T+i)*T+j]=j<=i?(float)(s[j]/z):0;for(int c=0;c<D;c++){float a=0;for(int j=0;j<=i;j++)a+=att[(bh*T+i)*T+j]*v[o+j*D+c];out[o+i*D+c]=a;}}}}
  static void backward(float[] dq,float[] dk,float[] dv,float[] dout,float[] q,float[] k,float[] v,float[] att,int B,int H,int T,int D,float p,long seed){float sc=(float)(1/Math.sqrt(D));for(int bh=0;bh<B*H;bh++){int o=bh*T*D;for(int i=0;i<T;i++){float[] dp=new float[T];for(int j=0;j<=i;j++){float a=att[(bh*T+i)*T+j];for(int c=0;c<D;c++){dp[j]+=dout[o+i*D+c]*v[o+j*D+c];if(dv!=null)dv[o+j*D+c]+=a*dout[o+i*D+c];}}double dd=0;for(int j=0;j<=i;j++)dd+=dp[j]*att[(bh*T+i)*T+j];for(int j=0;j<=i;j++){float ds=(float)(att[(bh*T+i)*T+j]*(dp[j]-dd))*sc;for(int c=0;c<D;c++){if(dq!=null)dq[o+i*D+c]+=ds*k[o+j*D+c];if(dk!=null)dk[o+j*D+c]+=ds*q[o+i*D+c];}}}}}
}
final class CrossEntropyKernel {
  static float forward(float[] lg,int[] t,int N,int V,int ig,float[] lse){double tot=0;int cnt=0;for(int r=0;r<N;r++){float mx=Float.NEGATIVE_INFINITY;for(int j=0;j<V;j++)mx=Math.max(mx,lg[r*V+j]);double s=0;for(int j=0;j<V;j++)s+=Math.exp(lg[r*V+j]-mx);lse[r]=(float)(mx+Math.log(s));if(t[r]!=ig){tot+=lse[r]-lg[r*V+t[r]];cnt++;}}return cnt==0?Float.NaN:(float)(tot/cnt);}
  static void backward(float[] d,float[] lg,int[] t,float[] lse,int N,int V,int ig,float sc){for(int r=0;r<N;r++){if(t[r]==ig)continue;for(int j=0;j<V;j++)d[r*V+j]+=((float)Math.exp(lg[r*V+j]-lse[r])-(j==t[r]?1:0))*sc;}}
}
final class EmbeddingKernel {
  static void forward(float[] o,float[] tb,int[] ids,int n,int C){for(int i=0;i<n;i++)System.arraycopy(tb,ids[i]*C,o,i*C,C);}
  static void backward(float[] d,float[] g,int[] ids,int n,int C){for(int i=0;i<n;i++)for(int j=0;j<C;j++)d[ids[i]*C+j]+=g[i*C+j];}
}
final class DropoutKernel {
  static void forward(float[] o,float[] x,int n,float p,long seed){for(int i=0;i<n;i++)o[i]=x[i];}
  static void backward(float[] dx,float[] d,int n,float p,long seed){for(int i=0;i<n;i++)dx[i]+=d[i];}
}
